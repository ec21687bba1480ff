// What the Python SDK needs from the data proxy, through the registered Router methods and the HTTP route
// handlers: offloaded inputs feeding CreateRun, signed upload URLs (MD5 semantics, expiry, conflicts), action
// data and download links. Plus the digest/encoding helpers against published test vectors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "api/cluster_service_api.h"
#include "api/dataproxy_service_api.h"
#include "api/runs_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/cluster/service.pb.h"
#include "flyteidl2/dataproxy/dataproxy_service.pb.h"
#include "flyteidl2/task/task_service.pb.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "repository/store_factory.h"
#include "service/dataproxy_use_cases.h"
#include "service/signed_url.h"
#include "service/storage_local.h"

namespace flyte::runs {
namespace {

namespace dp = flyteidl2::dataproxy;
namespace wf = flyteidl2::workflow;
namespace tk = flyteidl2::task;
using absl::StatusCode;

constexpr char kKey[] = "a key the replicas share, 32+ bytes";

DataProxyOptions ProxyOptions(const std::string& key) {
  DataProxyOptions o;
  o.public_base_url = [] { return std::string("http://public.example:1234"); };
  o.signing_key = key;
  return o;
}

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-sdk-data"};
  std::string prefix = "file://" + data.path().string();
  common::FakeClock clock;
  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  std::unique_ptr<Store> store;
  std::unique_ptr<RunsApi> api;
  LocalBlobStore blobs{prefix};
  std::unique_ptr<DataProxyUseCases> proxy;
  std::unique_ptr<api::DataProxyServiceApi> proxy_api;
  api::ClusterServiceApi cluster_api;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    RunsApiOptions options;
    options.runs.storage_prefix = prefix;
    api = BuildRunsApi(*store, clock, options);
    api->Register(router);
    proxy = std::make_unique<DataProxyUseCases>(*store, blobs, clock, ProxyOptions(kKey));
    proxy_api = std::make_unique<api::DataProxyServiceApi>(*proxy);
    proxy_api->Register(router);
    cluster_api.Register(router);
  }
  ~Env() { api->Shutdown(); }

  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    const rpc::Method* m = router.Find(path);
    REQUIRE(m != nullptr);
    return m->unary(rpc::CallContext{}, req, resp);
  }
  rpc::HttpResponse Put(const std::string& url, const std::string& body, const std::string& md5_header) {
    rpc::HttpRequest req;
    req.method = "PUT";
    req.target = url.substr(std::string("http://public.example:1234").size());
    if (!md5_header.empty()) req.headers.emplace("content-md5", md5_header);
    req.body = body;
    return proxy_api->HandleUpload(req);
  }
  rpc::HttpResponse Get(const std::string& url) {
    rpc::HttpRequest req;
    req.method = "GET";
    req.target = url.substr(std::string("http://public.example:1234").size());
    return proxy_api->HandleDownload(req);
  }
};

constexpr char kProxy[] = "/flyteidl2.dataproxy.DataProxyService/";

std::string Slurp(const std::string& uri) {
  std::ifstream in(uri.substr(7), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

flyteidl2::task::Inputs SomeInputs(int64_t x) {
  flyteidl2::task::Inputs in;
  auto* lit = in.add_literals();
  lit->set_name("x");
  lit->mutable_value()->mutable_scalar()->mutable_primitive()->set_integer(x);
  return in;
}

TEST_CASE("digests and encodings match published vectors", "[unit]") {
  CHECK(absl::BytesToHexString(Md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(absl::BytesToHexString(Md5("The quick brown fox jumps over the lazy dog")) == "9e107d9d372bb6826bd81d3542a419d6");
  CHECK(absl::BytesToHexString(Md5(std::string(1000, 'a'))) == "cabe45dcc9ae5b66ba86600cca6b8ba8");
  CHECK(Fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(Fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("\xfb\xff", true, false) == "-_8");
  CHECK(*Base64Decode("Zm9vYmE=") == "fooba");
  CHECK(*Base64Decode("-_8") == "\xfb\xff");
  CHECK(!Base64Decode("a*b").ok());
  CHECK(Base32Encode("foobar") == "MZXW6YTBOI");
}

TEST_CASE("the blob store stays inside its root", "[unit]") {
  testing::TempDir dir;
  LocalBlobStore blobs("file://" + dir.path().string() + "/");
  REQUIRE(blobs.is_local());
  CHECK(blobs.UriFor("../etc/passwd").status().code() == StatusCode::kInvalidArgument);
  CHECK(blobs.UriFor("/abs").status().code() == StatusCode::kInvalidArgument);
  CHECK(blobs.UriFor("a//b").status().code() == StatusCode::kInvalidArgument);
  CHECK(blobs.Write("file:///etc/flyte-test", "x").code() == StatusCode::kInvalidArgument);
  CHECK(blobs.Write(blobs.prefix() + "/a/../../x", "x").code() == StatusCode::kInvalidArgument);
  std::string uri = *blobs.UriFor("p/d/f.txt");
  REQUIRE(blobs.Write(uri, "hello").ok());
  CHECK(*blobs.Read(uri) == "hello");
  CHECK(blobs.Read(*blobs.UriFor("p/none")).status().code() == StatusCode::kNotFound);
  CHECK(LocalBlobStore("s3://bucket/x").Read("s3://bucket/x/y").status().code() == StatusCode::kUnimplemented);
}

TEST_CASE("SelectCluster answers the default (empty) endpoint", "[api]") {
  Env env;
  flyteidl2::cluster::SelectClusterRequest req;
  req.set_operation(flyteidl2::cluster::SelectClusterRequest::OPERATION_UPLOAD_INPUTS);
  req.mutable_project_id()->set_name("p");
  flyteidl2::cluster::SelectClusterResponse resp;
  REQUIRE(env.Call("/flyteidl2.cluster.ClusterService/SelectCluster", req, &resp).ok());
  CHECK(resp.cluster_endpoint().empty());
}

TEST_CASE("UploadInputs offloads content-addressed inputs that CreateRun and GetActionData use", "[api][sqlite]") {
  Env env;
  dp::UploadInputsRequest up;
  up.mutable_project_id()->set_name("flytesnacks");
  up.mutable_project_id()->set_domain("development");
  up.mutable_project_id()->set_organization("localhost");
  *up.mutable_inputs() = SomeInputs(7);
  dp::UploadInputsResponse upr;
  REQUIRE(env.Call(std::string(kProxy) + "UploadInputs", up, &upr).ok());
  const auto& off = upr.offloaded_input_data();
  CHECK(off.uri().rfind(env.prefix + "/flytesnacks/development/.inputs/", 0) == 0);
  CHECK(off.uri().size() > 10);
  CHECK(off.uri().substr(off.uri().size() - 10) == "/inputs.pb");
  CHECK(off.inputs_hash().size() == 11);  // 8 bytes, base64url without padding
  flyteidl2::task::Inputs stored;
  REQUIRE(stored.ParseFromString(Slurp(off.uri())));
  CHECK(stored.literals(0).value().scalar().primitive().integer() == 7);

  // Equal inputs: same place and hash; different inputs: another place.
  dp::UploadInputsResponse again;
  REQUIRE(env.Call(std::string(kProxy) + "UploadInputs", up, &again).ok());
  CHECK(again.offloaded_input_data().uri() == off.uri());
  *up.mutable_inputs() = SomeInputs(8);
  dp::UploadInputsResponse other;
  REQUIRE(env.Call(std::string(kProxy) + "UploadInputs", up, &other).ok());
  CHECK(other.offloaded_input_data().uri() != off.uri());
  CHECK(other.offloaded_input_data().inputs_hash() != off.inputs_hash());

  // CreateRun as the SDK sends it: project_id + task_spec + offloaded_input_data.
  wf::CreateRunRequest create;
  create.mutable_project_id()->set_name("flytesnacks");
  create.mutable_project_id()->set_domain("development");
  create.mutable_project_id()->set_organization("localhost");
  auto* tmpl = create.mutable_task_spec()->mutable_task_template();
  tmpl->set_type("python");
  tmpl->mutable_id()->set_name("wf.square");
  tmpl->mutable_id()->set_version("v1");
  tmpl->mutable_id()->set_project("flytesnacks");
  tmpl->mutable_id()->set_domain("development");
  *create.mutable_offloaded_input_data() = off;
  wf::CreateRunResponse created;
  REQUIRE(env.Call("/flyteidl2.workflow.RunService/CreateRun", create, &created).ok());

  dp::GetActionDataRequest get;
  *get.mutable_action_id()->mutable_run() = created.run().action().id().run();
  get.mutable_action_id()->set_name("a0");
  dp::GetActionDataResponse data;
  REQUIRE(env.Call(std::string(kProxy) + "GetActionData", get, &data).ok());
  CHECK(data.inputs_uri() == off.uri());
  CHECK(data.inputs().literals(0).value().scalar().primitive().integer() == 7);
  CHECK_FALSE(data.has_outputs());
  CHECK(data.outputs_uri().empty());

  // Once the executor reports the attempt's output prefix, outputs come back too.
  const std::string out_dir = env.prefix + "/flytesnacks/development/" + created.run().action().id().run().name() +
                              "/a0/1";
  flyteidl2::task::Outputs outputs;
  auto* o = outputs.add_literals();
  o->set_name("o0");
  o->mutable_value()->mutable_scalar()->mutable_primitive()->set_integer(49);
  REQUIRE(env.blobs.Write(out_dir + "/outputs.pb", outputs.SerializeAsString()).ok());
  wf::PutRequest put;
  *put.mutable_action_id() = get.action_id();
  put.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_SUCCEEDED","outputs":{"outputUri":")" + out_dir + R"("}})");
  wf::PutResponse put_resp;
  REQUIRE(env.Call("/flyteidl2.workflow.StateService/Put", put, &put_resp).ok());
  REQUIRE(put_resp.status().code() == 0);
  dp::GetActionDataResponse done;
  REQUIRE(env.Call(std::string(kProxy) + "GetActionData", get, &done).ok());
  CHECK(done.outputs_uri() == out_dir + "/outputs.pb");
  CHECK(done.outputs().literals(0).value().scalar().primitive().integer() == 49);

  get.mutable_action_id()->set_name("a9");
  CHECK(env.Call(std::string(kProxy) + "GetActionData", get, &data).code() == StatusCode::kNotFound);
}

TEST_CASE("UploadInputs validates its scope and base_dir", "[api]") {
  Env env;
  dp::UploadInputsRequest up;
  dp::UploadInputsResponse resp;
  CHECK(env.Call(std::string(kProxy) + "UploadInputs", up, &resp).code() == StatusCode::kInvalidArgument);
  up.mutable_run_id()->set_project("p");
  up.mutable_run_id()->set_domain("d");
  up.mutable_run_id()->set_name("r1");
  up.set_base_dir("file:///somewhere/else");
  CHECK(env.Call(std::string(kProxy) + "UploadInputs", up, &resp).code() == StatusCode::kInvalidArgument);
  up.set_base_dir(env.prefix + "/custom");
  REQUIRE(env.Call(std::string(kProxy) + "UploadInputs", up, &resp).ok());
  CHECK(resp.offloaded_input_data().uri().rfind(env.prefix + "/custom/p/d/.inputs/", 0) == 0);
}

TEST_CASE("CreateUploadLocation + PUT to the signed URL land the bytes at native_url", "[api]") {
  Env env;
  // native_url is the bare absolute path on the data volume: the SDK opens File literals made from it in tasks.
  const std::string root = env.prefix.substr(std::string("file://").size());
  const std::string body = "bundle bytes";
  dp::CreateUploadLocationRequest req;
  req.set_project("flytesnacks");
  req.set_domain("development");
  req.set_filename("fast123.tar.gz");
  req.set_content_md5(Md5(body));
  req.set_add_content_md5_metadata(true);
  dp::CreateUploadLocationResponse loc;
  REQUIRE(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).ok());
  CHECK(loc.native_url() == root + "/flytesnacks/development/" + Base32Encode(Md5(body)) + "/fast123.tar.gz");
  CHECK(loc.signed_url().rfind("http://public.example:1234/dataproxy/upload/", 0) == 0);
  CHECK(loc.headers().at("Content-MD5") == Base64Encode(Md5(body)));
  CHECK(loc.expires_at().seconds() > 0);

  CHECK(env.Put(loc.signed_url(), "other bytes", Base64Encode(Md5(body))).status == 400);  // BadDigest
  CHECK(env.Put(loc.signed_url(), "other bytes", "").status == 400);  // not what the URL was issued for
  CHECK_FALSE(std::filesystem::exists(loc.native_url()));
  rpc::HttpResponse ok = env.Put(loc.signed_url(), body, Base64Encode(Md5(body)));
  CHECK(ok.status == 200);
  CHECK(Slurp("file://" + loc.native_url()) == body);
  CHECK(*env.blobs.Read(loc.native_url()) == body);

  // Same content again: same location; different content at the same name: refused.
  dp::CreateUploadLocationResponse again;
  REQUIRE(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &again).ok());
  CHECK(again.native_url() == loc.native_url());
  req.set_filename_root("fixedroot");
  dp::CreateUploadLocationResponse rooted;
  REQUIRE(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &rooted).ok());
  CHECK(rooted.native_url() == root + "/flytesnacks/development/fixedroot/fast123.tar.gz");
  REQUIRE(env.Put(rooted.signed_url(), body, "").status == 200);
  req.set_content_md5(Md5("changed"));
  CHECK(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &rooted).code() == StatusCode::kAlreadyExists);

  CHECK(env.Put("http://public.example:1234/dataproxy/upload/nosuchtoken", body, "").status == 404);
}

TEST_CASE("CreateUploadLocation validation and expiry", "[api]") {
  Env env;
  dp::CreateUploadLocationRequest req;
  dp::CreateUploadLocationResponse loc;
  req.set_project("p");
  req.set_domain("d");
  CHECK(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).code() == StatusCode::kInvalidArgument);
  req.set_filename("f.txt");
  CHECK(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).code() == StatusCode::kInvalidArgument);
  req.set_content_md5("short");
  CHECK(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).code() == StatusCode::kInvalidArgument);
  req.set_content_md5(Md5("x"));
  req.set_filename("../../escape");
  CHECK(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).code() == StatusCode::kInvalidArgument);
  req.set_filename("f.txt");
  req.mutable_expires_in()->set_seconds(60);
  REQUIRE(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).ok());
  env.clock.Advance(std::chrono::seconds(61));
  rpc::HttpResponse expired = env.Put(loc.signed_url(), "x", "");
  CHECK(expired.status == 403);
  CHECK(expired.body.find("expired") != std::string::npos);
}

TEST_CASE("CreateDownloadLink serves an action's report over GET", "[api][sqlite]") {
  Env env;
  wf::CreateRunRequest create;
  auto* id = create.mutable_run_id();
  id->set_org("o");
  id->set_project("p");
  id->set_domain("d");
  id->set_name("rep1");
  auto* tmpl = create.mutable_task_spec()->mutable_task_template();
  tmpl->mutable_id()->set_name("t");
  tmpl->mutable_id()->set_version("v1");
  tmpl->mutable_container()->add_args("a0");
  tmpl->mutable_container()->add_args("--tgz");
  tmpl->mutable_container()->add_args(env.prefix + "/p/d/ROOT/code.tar.gz");
  REQUIRE(env.blobs.Write(env.prefix + "/p/d/ROOT/code.tar.gz", "tgz").ok());  // CreateRun checks it is there
  wf::CreateRunResponse created;
  REQUIRE(env.Call("/flyteidl2.workflow.RunService/CreateRun", create, &created).ok());
  wf::PutRequest put;
  *put.mutable_action_id() = created.run().action().id();
  put.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_RUNNING"})");
  wf::PutResponse put_resp;
  REQUIRE(env.Call("/flyteidl2.workflow.StateService/Put", put, &put_resp).ok());

  dp::CreateDownloadLinkRequest req;
  req.set_artifact_type(dp::ARTIFACT_TYPE_REPORT);
  *req.mutable_action_attempt_id()->mutable_action_id() = created.run().action().id();
  req.mutable_action_attempt_id()->set_attempt(1);
  dp::CreateDownloadLinkResponse resp;
  CHECK(env.Call(std::string(kProxy) + "CreateDownloadLink", req, &resp).code() == StatusCode::kNotFound);
  REQUIRE(env.blobs.Write(env.prefix + "/p/d/rep1/a0/1/report.html", "<h1>hi</h1>").ok());
  REQUIRE(env.Call(std::string(kProxy) + "CreateDownloadLink", req, &resp).ok());
  REQUIRE(resp.pre_signed_urls().signed_url_size() == 1);
  rpc::HttpResponse got = env.Get(resp.pre_signed_urls().signed_url(0));
  CHECK(got.status == 200);
  CHECK(got.body == "<h1>hi</h1>");
  CHECK(got.content_type.rfind("text/html", 0) == 0);

  req.set_artifact_type(dp::ARTIFACT_TYPE_CODE_BUNDLE);
  dp::CreateDownloadLinkResponse code;
  REQUIRE(env.Call(std::string(kProxy) + "CreateDownloadLink", req, &code).ok());
  CHECK(env.Get(code.pre_signed_urls().signed_url(0)).body == "tgz");

  env.clock.Advance(std::chrono::hours(2));
  CHECK(env.Get(resp.pre_signed_urls().signed_url(0)).status == 403);
  CHECK(env.Get("http://public.example:1234/dataproxy/download/bogus/x").status == 404);
}

TEST_CASE("signed URLs carry their claims under an HMAC: any replica with the key accepts them", "[unit]") {
  UrlClaims c{true, "file:///data/p/d/ROOT/fast|odd name.tar.gz", 1'700'000'060, std::string(16, '\x07')};
  const std::string token = SignUrlClaims(c, "k1");
  CHECK(token.find_first_of("/?#=+") == std::string::npos);  // one URL path segment as it is
  absl::StatusOr<UrlClaims> back = VerifyUrlToken(token, "k1");
  REQUIRE(back.ok());
  CHECK(*back == c);
  CHECK(VerifyUrlToken(token, "k2").status().code() == StatusCode::kNotFound);
  // Any change to the claims or the MAC is refused.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CAPTURE(i);
    CHECK(!VerifyUrlToken(bad, "k1").ok());
  }
  CHECK(!VerifyUrlToken("", "k1").ok());
  CHECK(!VerifyUrlToken("nodot", "k1").ok());
  CHECK(!VerifyUrlToken(".", "k1").ok());
}

TEST_CASE("a URL signed by one replica works on another and after a restart; not with another key", "[api]") {
  Env env;
  dp::CreateUploadLocationRequest req;
  req.set_project("p");
  req.set_domain("d");
  req.set_filename("f.txt");
  const std::string body = "replica bytes";
  req.set_content_md5(Md5(body));
  dp::CreateUploadLocationResponse loc;
  REQUIRE(env.Call(std::string(kProxy) + "CreateUploadLocation", req, &loc).ok());
  // A second DataProxyUseCases with the same key (another replica, or this one restarted) takes the PUT.
  DataProxyUseCases replica(*env.store, env.blobs, env.clock, ProxyOptions(kKey));
  api::DataProxyServiceApi replica_api(replica);
  rpc::HttpRequest put;
  put.method = "PUT";
  put.target = loc.signed_url().substr(std::string("http://public.example:1234").size());
  put.body = body;
  CHECK(replica_api.HandleUpload(put).status / 100 == 2);
  CHECK(*env.blobs.Read(loc.native_url()) == body);
  // A replica with another key does not know the URL.
  DataProxyUseCases stranger(*env.store, env.blobs, env.clock, ProxyOptions("another key entirely, 32 bytes."));
  api::DataProxyServiceApi stranger_api(stranger);
  CHECK(stranger_api.HandleUpload(put).status == 404);
  // The upload URL is no download URL.
  rpc::HttpRequest get;
  get.method = "GET";
  get.target = "/dataproxy/download/" + put.target.substr(std::string("/dataproxy/upload/").size()) + "/f.txt";
  CHECK(replica_api.HandleDownload(get).status == 404);
}

TEST_CASE("CreateRun and DeployTask refuse a code bundle missing from the data tree", "[api][sqlite]") {
  Env env;
  auto create = [&](const std::string& name, const std::string& bundle) {
    wf::CreateRunRequest req;
    auto* id = req.mutable_run_id();
    id->set_project("p");
    id->set_domain("d");
    id->set_name(name);
    auto* tmpl = req.mutable_task_spec()->mutable_task_template();
    tmpl->mutable_id()->set_name("t");
    for (const std::string& a : {std::string("a0"), std::string("--tgz"), bundle, std::string("--dest")}) {
      tmpl->mutable_container()->add_args(a);
    }
    wf::CreateRunResponse resp;
    return env.Call("/flyteidl2.workflow.RunService/CreateRun", req, &resp);
  };
  const std::string stale = env.prefix + "/p/d/B32ROOT/fastdeadbeef.tar.gz";
  absl::Status st = create("stale", stale);
  CHECK(st.code() == StatusCode::kFailedPrecondition);
  CHECK(std::string(st.message()).find(stale) != std::string::npos);
  CHECK(std::string(st.message()).find("disable_run_cache=True") != std::string::npos);
  CHECK(std::string(st.message()).find("local-cache/cache.db") != std::string::npos);
  tk::DeployTaskRequest deploy;
  deploy.mutable_task_id()->set_project("p");
  deploy.mutable_task_id()->set_domain("d");
  deploy.mutable_task_id()->set_name("t");
  deploy.mutable_task_id()->set_version("v1");
  deploy.mutable_spec()->mutable_task_template()->mutable_container()->add_args("--pkl");
  deploy.mutable_spec()->mutable_task_template()->mutable_container()->add_args(stale);
  tk::DeployTaskResponse deployed;
  CHECK(env.Call("/flyteidl2.task.TaskService/DeployTask", deploy, &deployed).code() ==
        StatusCode::kFailedPrecondition);

  // Once the bundle is there (the SDK uploaded it again) both go through.
  REQUIRE(env.blobs.Write(stale, "tgz").ok());
  CHECK(create("stale", stale).ok());
  CHECK(env.Call("/flyteidl2.task.TaskService/DeployTask", deploy, &deployed).ok());
  // What cannot be checked here is not refused: other schemes, paths outside the data tree.
  CHECK(create("s3", "s3://bucket/fastabc.tar.gz").ok());
  CHECK(create("outside", "file:///nonexistent-elsewhere/fastabc.tar.gz").ok());
}

}  // namespace
}  // namespace flyte::runs
