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
#include "support/unary_call.h"

namespace flyte::runs {
namespace {

namespace sec = flyteidl2::secret;
namespace resolve = flyte::internal::secret::v1;
using absl::StatusCode;

constexpr char kService[] = "/flyteidl2.secret.SecretService/";
constexpr char kResolve[] = "/flyte.internal.secret.v1.SecretResolveService/ResolveSecrets";

struct Env {
  testing::TempSqlite db;
  common::FakeClock clock;
  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  std::unique_ptr<Store> store;
  std::unique_ptr<SecretUseCases> secrets;
  std::unique_ptr<api::SecretServiceApi> api;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    secrets = std::make_unique<SecretUseCases>(store->UserSecrets(), clock, common::RandomBytes(32));
    api = std::make_unique<api::SecretServiceApi>(*secrets);
    api->Register(router);
  }

  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    return test::CallUnary(router, path, req, resp);
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

}  // namespace
}  // namespace flyte::runs
