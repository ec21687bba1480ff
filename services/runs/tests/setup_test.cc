// The runs-service object graph as the binary builds it: real SQLite in a temp dir, real sockets on port 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <grpcpp/client_context.h>

#include "flyte/testing/temp.h"
#include "flyteidl2/dataproxy/dataproxy_service.pb.h"
#include "flyteidl2/project/project_service.pb.h"
#include "flyteidl2/task/task_service.grpc.pb.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "service/storage_local.h"
#include "setup.h"

using flyte::runs::Config;
using flyte::runs::RunsService;

namespace {

Config TestConfig(const flyte::testing::TempDir& dir) {
  Config cfg;
  cfg.server.host = "127.0.0.1";
  cfg.server.port = 0;
  cfg.database.sqlite->file = (dir.path() / "runs.db").string();
  cfg.storage_prefix = "file://" + (dir.path() / "data").string();
  cfg.projects = "p";  // DeployTask below; runs and tasks need a known project and domain
  cfg.domains = "d";
  return cfg;
}

// One HTTP/1.1 request; returns the whole response ("" if the connection failed).
std::string Http(int port, const std::string& method, const std::string& path, const std::string& headers = "",
                 const std::string& body = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string HttpGet(int port, const std::string& path) { return Http(port, "GET", path); }

template <class Req, class Resp>
absl::Status Call(flyte::rpc::Router& router, const std::string& path, const Req& req, Resp* resp) {
  const flyte::rpc::Method* m = router.Find(path);
  REQUIRE(m != nullptr);
  return m->unary(flyte::rpc::CallContext{}, req, resp);
}

}  // namespace

TEST_CASE("runs-service starts on a free port and answers health, readiness and metrics", "[setup][sqlite]") {
  flyte::testing::TempDir dir("runs-setup");
  auto service = RunsService::Create(TestConfig(dir));
  INFO(service.status().ToString());
  REQUIRE(service.ok());
  REQUIRE((*service)->Start().ok());
  const int port = (*service)->port();
  REQUIRE(port > 0);

  CHECK(HttpGet(port, "/healthz").rfind("HTTP/1.1 200", 0) == 0);
  CHECK(HttpGet(port, "/readyz").rfind("HTTP/1.1 200", 0) == 0);

  // One RPC through the real server feeds both RPC and database metrics.
  auto stub = flyteidl2::task::TaskService::NewStub((*service)->server().InProcessChannel());
  grpc::ClientContext ctx;
  flyteidl2::task::DeployTaskRequest req;
  auto* id = req.mutable_task_id();
  id->set_org("o");
  id->set_project("p");
  id->set_domain("d");
  id->set_name("t");
  id->set_version("1");
  req.mutable_spec()->mutable_task_template()->set_type("python");
  flyteidl2::task::DeployTaskResponse resp;
  grpc::Status st = stub->DeployTask(&ctx, req, &resp);
  INFO(st.error_message());
  CHECK(st.ok());

  std::string metrics = HttpGet(port, "/metrics");
  CHECK(metrics.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(metrics.find("flyte_db_query_duration_seconds") != std::string::npos);
  CHECK(metrics.find("store=\"runs\"") != std::string::npos);
  CHECK(metrics.find("flyte_rpc_requests_total") != std::string::npos);

  (*service)->Shutdown();
  (*service)->Shutdown();  // idempotent
  CHECK(HttpGet(port, "/healthz").empty());
  CHECK(std::filesystem::exists(dir.path() / "runs.db"));
}

TEST_CASE("the router serves RunService, TaskService and StateService", "[setup][sqlite]") {
  flyte::testing::TempDir dir("runs-setup");
  auto service = RunsService::Create(TestConfig(dir));
  REQUIRE(service.ok());
  const auto& router = (*service)->router();
  for (const char* path : {"/flyteidl2.workflow.RunService/CreateRun", "/flyteidl2.workflow.RunService/WatchRuns",
                           "/flyteidl2.task.TaskService/DeployTask", "/flyteidl2.task.TaskService/ListTasks",
                           "/flyteidl2.workflow.StateService/Put", "/flyteidl2.workflow.StateService/Watch"}) {
    INFO(path);
    CHECK(router.Find(path) != nullptr);
  }
  CHECK(router.Find("/flyteidl2.workflow.RunService/WatchRuns")->server_streaming);
}

TEST_CASE("an unreachable database fails Create with UNAVAILABLE naming it", "[setup][postgres]") {
  Config cfg;
  cfg.database.sqlite.reset();
  cfg.database.postgres = flyte::db::PostgresConfig{};
  cfg.database.postgres->host = "127.0.0.1";
  cfg.database.postgres->port = 1;  // nothing listens there
  cfg.database.postgres->dbname = "nope";
  cfg.database.postgres->username = "nobody";
  auto service = RunsService::Create(cfg);
  CHECK(service.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(service.status().message()).find("postgres 127.0.0.1:1/nope") != std::string::npos);
}

TEST_CASE("validate-only mode checks the config without opening the database", "[setup][sqlite]") {
  flyte::testing::TempDir dir("runs-validate");
  const std::string db = (dir.path() / "never.db").string();
  const std::string good = (dir.path() / "good.yaml").string();
  const std::string bad = (dir.path() / "bad.yaml").string();
  std::ofstream(good) << "runs: {server: {port: 0}}\ndatabase: {sqlite: {file: " << db << "}}\n";
  std::ofstream(bad) << "runs: {server: {port: abc}}\ndatabase: {sqlte: {}}\n";

  const char* ok_args[] = {"runs-service", "--config", good.c_str(), "--validate-config"};
  CHECK(flyte::runs::Main(4, ok_args) == 0);
  CHECK_FALSE(std::filesystem::exists(db));
  const char* bad_args[] = {"runs-service", "--validate-config", "--config", bad.c_str()};
  CHECK(flyte::runs::Main(4, bad_args) == 2);
  const char* missing_args[] = {"runs-service", "--validate-config", "--config", "/nonexistent.yaml"};
  CHECK(flyte::runs::Main(4, missing_args) == 2);
}

TEST_CASE("runs-service refuses unknown projects and domains; projects and signed URLs outlive a restart",
          "[api][sqlite]") {
  flyte::testing::TempDir dir("runs-setup");
  absl::StatusOr<Config> cfg = flyte::runs::ParseConfig(
      "runs:\n  server: {host: 127.0.0.1, port: 0}\n  storagePrefix: " + (dir.path() / "data").string() +
      "\n  queue: {endpoint: \"\"}\ndatabase:\n  sqlite: {file: " + (dir.path() / "runs.db").string() + "}\n");
  REQUIRE(cfg.ok());
  namespace wf = flyteidl2::workflow;
  namespace dp = flyteidl2::dataproxy;
  namespace pj = flyteidl2::project;
  using absl::StatusCode;
  auto create_run = [](flyte::rpc::Router& router, const std::string& project, const std::string& domain) {
    wf::CreateRunRequest req;
    req.mutable_project_id()->set_name(project);
    req.mutable_project_id()->set_domain(domain);
    req.mutable_task_spec()->mutable_task_template()->mutable_id()->set_name("t");
    wf::CreateRunResponse resp;
    return Call(router, "/flyteidl2.workflow.RunService/CreateRun", req, &resp);
  };
  dp::CreateUploadLocationResponse loc;
  {
    auto service = RunsService::Create(*cfg);
    REQUIRE(service.ok());
    REQUIRE((*service)->Start().ok());
    flyte::rpc::Router& router = (*service)->router();
    CHECK(create_run(router, "flytesnacks", "development").ok());
    absl::Status st = create_run(router, "nosuchproject", "development");
    CHECK(st.code() == StatusCode::kNotFound);
    CHECK(std::string(st.message()).find("nosuchproject") != std::string::npos);
    st = create_run(router, "flytesnacks", "qa");
    CHECK(st.code() == StatusCode::kNotFound);
    CHECK(std::string(st.message()).find("domain qa") != std::string::npos);

    flyteidl2::task::DeployTaskRequest deploy;
    deploy.mutable_task_id()->set_project("nosuchproject");
    deploy.mutable_task_id()->set_domain("development");
    deploy.mutable_task_id()->set_name("t");
    deploy.mutable_task_id()->set_version("v1");
    deploy.mutable_spec()->mutable_task_template()->set_type("python");
    flyteidl2::task::DeployTaskResponse deployed;
    CHECK(Call(router, "/flyteidl2.task.TaskService/DeployTask", deploy, &deployed).code() == StatusCode::kNotFound);
    dp::UploadInputsRequest upload;
    upload.mutable_project_id()->set_name("flytesnacks");
    upload.mutable_project_id()->set_domain("qa");
    dp::UploadInputsResponse uploaded;
    CHECK(Call(router, "/flyteidl2.dataproxy.DataProxyService/UploadInputs", upload, &uploaded).code() ==
          StatusCode::kNotFound);

    pj::CreateProjectRequest made;
    made.mutable_project()->set_id("made-at-runtime");
    pj::CreateProjectResponse made_resp;
    REQUIRE(Call(router, "/flyteidl2.project.ProjectService/CreateProject", made, &made_resp).ok());
    CHECK(create_run(router, "made-at-runtime", "staging").ok());

    dp::CreateUploadLocationRequest where;
    where.set_project("flytesnacks");
    where.set_domain("development");
    where.set_filename("after-restart.txt");
    where.set_content_md5(flyte::runs::Md5("hello"));
    REQUIRE(Call(router, "/flyteidl2.dataproxy.DataProxyService/CreateUploadLocation", where, &loc).ok());
    (*service)->Shutdown();
  }
  // Restarted (or another replica on the same database): the project is there and the URL still works.
  auto service = RunsService::Create(*cfg);
  REQUIRE(service.ok());
  REQUIRE((*service)->Start().ok());
  CHECK(create_run((*service)->router(), "made-at-runtime", "production").ok());
  const std::string url = loc.signed_url();
  const std::string path = url.substr(url.find("/dataproxy/"));
  std::string answer = Http((*service)->port(), "PUT", path,
                            "Content-MD5: " + flyte::runs::Base64Encode(flyte::runs::Md5("hello")) + "\r\n", "hello");
  CHECK(answer.rfind("HTTP/1.1 2", 0) == 0);
  CHECK(std::filesystem::exists(loc.native_url()));
  (*service)->Shutdown();
}
