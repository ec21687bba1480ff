// IdentityService.UserInfo (`flyte whoami`), SettingsService (`flyte get settings` / `flyte edit settings`) and the
// RunSpec.relation checks of CreateRun (`flyte rerun --recover`), through runs-service as setup wires it.
#include <catch2/catch.hpp>

#include "flyte/testing/temp.h"
#include "flyteidl2/auth/identity.pb.h"
#include "flyteidl2/common/run.pb.h"
#include "flyteidl2/settings/settings_service.pb.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "setup.h"
#include "support/unary_call.h"

namespace flyte::runs {
namespace {

namespace st = flyteidl2::settings;
namespace wf = flyteidl2::workflow;
using absl::StatusCode;

using test::CallUnary;

struct Service {
  Service() {
    absl::StatusOr<Config> cfg = ParseConfig(
        "runs:\n  server: {host: 127.0.0.1, port: 0}\n  storagePrefix: " + (dir.path() / "data").string() +
        "\n  queue: {endpoint: \"\"}\n  domains: \"development, production\"\ndatabase:\n  sqlite: {file: " +
        (dir.path() / "runs.db").string() + "}\n");
    REQUIRE(cfg.ok());
    auto s = RunsService::Create(*cfg);
    REQUIRE(s.ok());
    service = std::move(*s);
    REQUIRE(service->Start().ok());
  }
  ~Service() { service->Shutdown(); }
  rpc::Router& router() { return service->router(); }
  std::string DataRoot() const { return "file://" + (dir.path() / "data").string(); }

  testing::TempDir dir;
  std::unique_ptr<RunsService> service;
};

TEST_CASE("UserInfo answers the anonymous subject of an unauthenticated stack", "[api][sqlite]") {
  Service s;
  flyteidl2::auth::UserInfoResponse info;
  REQUIRE(CallUnary(s.router(), "/flyteidl2.auth.IdentityService/UserInfo", flyteidl2::auth::UserInfoRequest(), &info)
              .ok());
  CHECK(info.subject() == "anonymous");
  CHECK(info.preferred_username() == "anonymous");
  CHECK_FALSE(info.additional_claims().fields().at("authenticated").bool_value());
}

TEST_CASE("settings show the storage prefix at the ORG level and refuse changes naming the keys", "[api][sqlite]") {
  Service s;
  st::GetSettingsForEditRequest req;
  req.mutable_key()->set_domain("development");
  req.mutable_key()->set_project("flytesnacks");
  st::GetSettingsForEditResponse resp;
  REQUIRE(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettingsForEdit", req, &resp).ok());
  CHECK(resp.requestedkey().project() == "flytesnacks");
  REQUIRE(resp.levels_size() == 1);
  const st::SettingsRecord& org = resp.levels(0);
  CHECK(org.key().domain().empty());
  CHECK(org.key().project().empty());
  CHECK(org.version() == 1);
  CHECK(org.settings().storage().raw_data_path().state() == st::SETTING_STATE_VALUE);
  CHECK(org.settings().storage().raw_data_path().string_value() == s.DataRoot());
  CHECK_FALSE(org.settings().run().has_default_queue());

  st::GetSettingsRequest get;
  get.mutable_key()->set_domain("production");
  st::GetSettingsResponse got;
  REQUIRE(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettings", get, &got).ok());
  CHECK(got.settingsrecord().version() == 0);  // the domain sets nothing itself
  CHECK(got.settingsrecord().key().domain() == "production");
  get.mutable_key()->clear_domain();
  REQUIRE(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettings", get, &got).ok());
  CHECK(got.settingsrecord().settings().storage().raw_data_path().string_value() == s.DataRoot());

  // Unknown scopes and a project without a domain are refused, naming them.
  req.mutable_key()->set_domain("qa");
  absl::Status bad = CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettingsForEdit", req, &resp);
  CHECK(bad.code() == StatusCode::kNotFound);
  CHECK(std::string(bad.message()).find("domain qa not found") != std::string::npos);
  req.mutable_key()->set_domain("development");
  req.mutable_key()->set_project("nosuchproject");
  CHECK(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettingsForEdit", req, &resp).code() ==
        StatusCode::kNotFound);
  req.mutable_key()->clear_domain();
  bad = CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettingsForEdit", req, &resp);
  CHECK(bad.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(bad.message()).find("key.domain") != std::string::npos);
  CHECK(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/GetSettingsForEdit", st::GetSettingsForEditRequest(),
             &resp).code() == StatusCode::kInvalidArgument);

  st::UpdateSettingsRequest update;
  update.mutable_key()->set_domain("development");
  update.mutable_settings()->mutable_run()->mutable_default_queue()->set_state(st::SETTING_STATE_VALUE);
  update.mutable_settings()->mutable_run()->mutable_default_queue()->set_string_value("gpu");
  update.mutable_settings()->mutable_labels()->set_state(st::SETTING_STATE_UNSET);
  update.mutable_settings()->mutable_task_resource()->mutable_min()->mutable_cpu()->set_state(
      st::SETTING_STATE_INHERIT);  // inherit = not set: not named
  update.set_version(3);
  st::UpdateSettingsResponse updated;
  bad = CallUnary(s.router(), "/flyteidl2.settings.SettingsService/UpdateSettings", update, &updated);
  CHECK(bad.code() == StatusCode::kUnimplemented);
  const std::string msg(bad.message());
  CHECK(msg.find("UpdateSettings is not supported") != std::string::npos);
  CHECK(msg.find("run.default_queue, labels") != std::string::npos);
  CHECK(msg.find("task_resource") == std::string::npos);
  st::CreateSettingsRequest create;
  *create.mutable_key() = update.key();
  *create.mutable_settings() = update.settings();
  st::CreateSettingsResponse created;
  bad = CallUnary(s.router(), "/flyteidl2.settings.SettingsService/CreateSettings", create, &created);
  CHECK(bad.code() == StatusCode::kUnimplemented);
  CHECK(std::string(bad.message()).find("CreateSettings") != std::string::npos);
  create.clear_settings();
  CHECK(CallUnary(s.router(), "/flyteidl2.settings.SettingsService/CreateSettings", create, &created).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("CreateRun checks RunSpec.relation and RunSpec.recover, naming the field", "[api][sqlite]") {
  Service s;
  wf::CreateRunRequest req;
  req.mutable_project_id()->set_name("flytesnacks");
  req.mutable_project_id()->set_domain("development");
  req.mutable_task_spec()->mutable_task_template()->mutable_id()->set_name("t");
  auto* relation = req.mutable_run_spec()->mutable_relation();
  relation->set_relation_type(flyteidl2::common::RELATION_TYPE_RECOVER);
  wf::CreateRunResponse resp;
  auto message_of = [&] { return std::string(CallUnary(s.router(), "/flyteidl2.workflow.RunService/CreateRun", req,
                                                  &resp).message()); };

  CHECK(message_of().find("run_spec.relation.related_to.name is required") != std::string::npos);
  relation->mutable_related_to()->set_name("src");
  relation->mutable_related_to()->set_project("other");
  CHECK(message_of().find("run_spec.relation.related_to: a run can only recover a run of its own") !=
        std::string::npos);
  relation->mutable_related_to()->set_project("flytesnacks");
  CHECK(message_of().find("run src to recover not found") != std::string::npos);

  // RERUN is provenance only; `recover` extras without a RECOVER relation are refused.
  relation->set_relation_type(flyteidl2::common::RELATION_TYPE_RERUN);
  req.mutable_run_spec()->mutable_recover()->add_force_rerun_actions("a1");
  absl::Status st = CallUnary(s.router(), "/flyteidl2.workflow.RunService/CreateRun", req, &resp);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(st.message()).find("run_spec.recover") != std::string::npos);
  req.mutable_run_spec()->clear_recover();
  REQUIRE(CallUnary(s.router(), "/flyteidl2.workflow.RunService/CreateRun", req, &resp).ok());
  wf::GetRunDetailsRequest get;
  *get.mutable_run_id() = resp.run().action().id().run();
  wf::GetRunDetailsResponse details;
  REQUIRE(CallUnary(s.router(), "/flyteidl2.workflow.RunService/GetRunDetails", get, &details).ok());
  CHECK(details.details().action().metadata().relation().related_to().name() == "src");
}

}  // namespace
}  // namespace flyte::runs
