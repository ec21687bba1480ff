// SecretService and the internal SecretResolveService adapters through their registered Router methods: string and
// binary values, the org defaulting, what is refused (naming the field), that no answer but ResolveSecrets carries
// a value, paging, and the status mapping.
#include <catch2/catch.hpp>

#include "api/secret_service_api.h"
#include "flyte/common/digest.h"
#include "flyte/internal/secret/v1/secret_resolve_service.pb.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/secret/payload.pb.h"
#include "repository/store_factory.h"
#include "support/router_store.h"
#include "support/unary_call.h"

namespace flyte::runs {
namespace {

namespace sec = flyteidl2::secret;
namespace resolve = flyte::internal::secret::v1;
using absl::StatusCode;

constexpr char kService[] = "/flyteidl2.secret.SecretService/";
constexpr char kResolve[] = "/flyte.internal.secret.v1.SecretResolveService/ResolveSecrets";
constexpr char kToken[] = "the-internal-token-of-this-test";

struct Env : test::RouterStore {
  std::unique_ptr<SecretUseCases> secrets;
  std::unique_ptr<api::SecretServiceApi> api;

  explicit Env(const std::string& internal_token = kToken) {
    secrets = std::make_unique<SecretUseCases>(store->UserSecrets(), clock, common::RandomBytes(32));
    api = std::make_unique<api::SecretServiceApi>(*secrets, api::InternalCallerCheck(internal_token));
    api->Register(router);
  }

  // As the executor calls: from another host, with the internal token.
  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    return CallAs("ipv4:10.1.2.3:40000", kToken, path, req, resp);
  }
  template <class Req, class Resp>
  absl::Status CallAs(const std::string& peer, const std::string& token, const std::string& path, const Req& req,
                      Resp* resp) {
    rpc::CallContext ctx;
    ctx.peer = peer;
    if (!token.empty()) ctx.headers.emplace(api::kInternalTokenHeader, token);
    return test::CallUnary(router, path, req, resp, ctx);
  }
};

sec::CreateSecretRequest Create(const std::string& project, const std::string& name, const std::string& value) {
  sec::CreateSecretRequest req;
  req.mutable_id()->set_project(project);
  req.mutable_id()->set_domain(project.empty() ? "" : "development");
  req.mutable_id()->set_name(name);
  req.mutable_secret_spec()->set_string_value(value);
  return req;
}

bool Contains(const absl::Status& s, const std::string& part) {
  return std::string(s.message()).find(part) != std::string::npos;
}

TEST_CASE("SecretService: create, get and list without values, resolve, delete", "[api]") {
  Env env;
  sec::CreateSecretResponse created;
  REQUIRE(env.Call(std::string(kService) + "CreateSecret", Create("p", "api-key", "v4lue-1"), &created).ok());
  sec::CreateSecretRequest binary = Create("p", "blob", "");
  binary.mutable_secret_spec()->set_binary_value(std::string("\x00\x01", 2));
  binary.mutable_secret_spec()->set_type(sec::SECRET_TYPE_IMAGE_PULL_SECRET);
  REQUIRE(env.Call(std::string(kService) + "CreateSecret", binary, &created).ok());
  absl::Status dup = env.Call(std::string(kService) + "CreateSecret", Create("p", "api-key", "x"), &created);
  CHECK(dup.code() == StatusCode::kAlreadyExists);
  CHECK(Contains(dup, "api-key"));

  sec::GetSecretRequest get;
  *get.mutable_id() = Create("p", "api-key", "").id();
  sec::GetSecretResponse got;
  REQUIRE(env.Call(std::string(kService) + "GetSecret", get, &got).ok());
  CHECK(got.secret().id().organization() == "local");  // none sent: the default org
  CHECK(got.secret().id().name() == "api-key");
  CHECK(got.secret().secret_metadata().secret_status().overall_status() == sec::FULLY_PRESENT);
  CHECK(got.secret().secret_metadata().has_created_time());
  CHECK(got.SerializeAsString().find("v4lue-1") == std::string::npos);

  sec::ListSecretsRequest list;
  list.set_project("p");
  list.set_domain("development");
  list.set_limit(1);
  sec::ListSecretsResponse page1, page2;
  REQUIRE(env.Call(std::string(kService) + "ListSecrets", list, &page1).ok());
  REQUIRE(page1.secrets_size() == 1);
  CHECK(page1.secrets(0).id().name() == "api-key");
  CHECK(!page1.token().empty());
  list.set_token(page1.token());
  REQUIRE(env.Call(std::string(kService) + "ListSecrets", list, &page2).ok());
  REQUIRE(page2.secrets_size() == 1);
  CHECK(page2.secrets(0).id().name() == "blob");
  CHECK(page2.secrets(0).secret_metadata().type() == sec::SECRET_TYPE_IMAGE_PULL_SECRET);
  CHECK(page2.token().empty());
  CHECK(page1.SerializeAsString().find("v4lue-1") == std::string::npos);

  resolve::ResolveSecretsRequest rr;
  rr.set_project("p");
  rr.set_domain("development");
  rr.add_names("api-key");
  rr.add_names("blob");
  resolve::ResolveSecretsResponse values;
  REQUIRE(env.Call(kResolve, rr, &values).ok());
  REQUIRE(values.secrets_size() == 2);
  CHECK(values.secrets(0).value() == "v4lue-1");
  CHECK(values.secrets(1).value() == std::string("\x00\x01", 2));
  rr.add_names("absent");
  absl::Status missing = env.Call(kResolve, rr, &values);
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(Contains(missing, "secret absent not found"));

  sec::DeleteSecretRequest del;
  *del.mutable_id() = get.id();
  sec::DeleteSecretResponse deleted;
  REQUIRE(env.Call(std::string(kService) + "DeleteSecret", del, &deleted).ok());
  absl::Status gone = env.Call(std::string(kService) + "GetSecret", get, &got);
  CHECK(gone.code() == StatusCode::kNotFound);
  CHECK(Contains(gone, "api-key"));
  CHECK(env.Call(std::string(kService) + "DeleteSecret", del, &deleted).code() == StatusCode::kNotFound);
}

TEST_CASE("SecretService refuses what it does not support, naming the field", "[api]") {
  Env env;
  sec::CreateSecretResponse created;
  sec::CreateSecretRequest no_value = Create("p", "n", "");
  no_value.mutable_secret_spec()->clear_value();
  CHECK(Contains(env.Call(std::string(kService) + "CreateSecret", no_value, &created), "secret_spec.value"));
  sec::CreateSecretRequest no_spec = Create("p", "n", "x");
  no_spec.clear_secret_spec();
  CHECK(Contains(env.Call(std::string(kService) + "CreateSecret", no_spec, &created), "secret_spec is required"));
  CHECK(Contains(env.Call(std::string(kService) + "CreateSecret", Create("p", "", "x"), &created), "id.name"));
  sec::CreateSecretRequest bad_type = Create("p", "n", "x");
  bad_type.mutable_secret_spec()->set_type(static_cast<sec::SecretType>(7));
  CHECK(Contains(env.Call(std::string(kService) + "CreateSecret", bad_type, &created), "secret_spec.type"));

  sec::GetSecretRequest system;
  *system.mutable_id() = Create("p", "n", "").id();
  system.set_include_system_secrets(true);
  sec::GetSecretResponse got;
  absl::Status refused = env.Call(std::string(kService) + "GetSecret", system, &got);
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK(Contains(refused, "include_system_secrets"));
  sec::ListSecretsRequest per_cluster;
  (*per_cluster.mutable_per_cluster_tokens())["c"] = "t";
  sec::ListSecretsResponse listed;
  CHECK(Contains(env.Call(std::string(kService) + "ListSecrets", per_cluster, &listed), "per_cluster_tokens"));

  sec::UpdateSecretRequest update;
  *update.mutable_id() = Create("p", "n", "").id();
  update.mutable_secret_spec()->set_string_value("v");
  sec::UpdateSecretResponse updated;
  CHECK(env.Call(std::string(kService) + "UpdateSecret", update, &updated).code() == StatusCode::kNotFound);

  resolve::ResolveSecretsRequest none;
  resolve::ResolveSecretsResponse values;
  CHECK(Contains(env.Call(kResolve, none, &values), "names"));
}

TEST_CASE("SecretResolveService answers only callers with the internal token, or on this host without one",
          "[api]") {
  Env env;
  sec::CreateSecretResponse made;
  REQUIRE(env.Call(std::string(kService) + "CreateSecret", Create("p", "api-key", "v4lue-1"), &made).ok());
  resolve::ResolveSecretsRequest rr;
  rr.set_project("p");
  rr.set_domain("development");
  rr.add_names("api-key");
  resolve::ResolveSecretsResponse values;

  absl::Status none = env.CallAs("ipv4:10.1.2.3:40000", "", kResolve, rr, &values);
  CHECK(none.code() == StatusCode::kUnauthenticated);
  CHECK(Contains(none, "needs the internal token (header flyte-internal-token): none was sent"));
  // The loopback does not stand in for the token once one is set.
  CHECK(env.CallAs("ipv4:127.0.0.1:40000", "", kResolve, rr, &values).code() == StatusCode::kUnauthenticated);
  absl::Status wrong = env.CallAs("ipv4:10.1.2.3:40000", "the-internal-token-of-this-tesT", kResolve, rr, &values);
  CHECK(wrong.code() == StatusCode::kPermissionDenied);
  CHECK(Contains(wrong, "is not runs.internalToken"));
  CHECK_FALSE(Contains(wrong, kToken));
  CHECK(env.CallAs("ipv4:10.1.2.3:40000", "short", kResolve, rr, &values).code() == StatusCode::kPermissionDenied);
  CHECK(values.secrets_size() == 0);
  REQUIRE(env.CallAs("ipv4:10.1.2.3:40000", kToken, kResolve, rr, &values).ok());
  CHECK(values.secrets(0).value() == "v4lue-1");
  // SecretService itself (no values) is not the internal API: no token needed.
  sec::GetSecretRequest get;
  *get.mutable_id() = Create("p", "api-key", "").id();
  sec::GetSecretResponse got;
  CHECK(env.CallAs("ipv4:10.1.2.3:40000", "", std::string(kService) + "GetSecret", get, &got).ok());

  Env open("");  // no runs.internalToken: callers on this host only
  REQUIRE(open.Call(std::string(kService) + "CreateSecret", Create("p", "api-key", "v4lue-2"), &made).ok());
  for (const char* peer : {"ipv4:127.0.0.1:5000", "ipv4:127.8.9.1:5000", "ipv6:[::1]:5000", "ipv6:%5B::1%5D:5000",
                           "ipv6:[::ffff:127.0.0.1]:5000", "unix:/run/flyte.sock"}) {
    INFO(peer);
    values.Clear();
    REQUIRE(open.CallAs(peer, "", kResolve, rr, &values).ok());
    CHECK(values.secrets(0).value() == "v4lue-2");
  }
  for (const char* peer : {"ipv4:10.1.2.3:5000", "ipv6:[fe80::1]:5000", "ipv4:128.0.0.1:5000", "", "ipv6:[::12]:1"}) {
    INFO(peer);
    absl::Status refused = open.CallAs(peer, kToken, kResolve, rr, &values);
    CHECK(refused.code() == StatusCode::kPermissionDenied);
    CHECK(Contains(refused, "only callers on this host when runs.internalToken is not set"));
  }
}

}  // namespace
}  // namespace flyte::runs
