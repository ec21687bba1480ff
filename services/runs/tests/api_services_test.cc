// RunService, TaskService and StateService adapters through their registered Router methods: validation with
// field paths, status mapping, list paging/filters and the shape of the messages clients decode.
#include <algorithm>

#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "flyte/testing/temp.h"
#include "flyte/internal/state/v1/state_report_service.pb.h"
#include "flyteidl2/task/task_service.pb.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "repository/store_factory.h"

namespace flyte::runs {
namespace {

namespace wf = flyteidl2::workflow;
namespace tk = flyteidl2::task;
using absl::StatusCode;

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-runs-data"};
  common::FakeClock clock;
  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  std::unique_ptr<Store> store;
  std::unique_ptr<RunsApi> api;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data.path().string();
    api = BuildRunsApi(*store, clock, options);
    api->Register(router);
  }
  ~Env() { api->Shutdown(); }

  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    const rpc::Method* m = router.Find(path);
    REQUIRE(m != nullptr);
    return m->unary(rpc::CallContext{}, req, resp);
  }
};

constexpr char kRun[] = "/flyteidl2.workflow.RunService/";
constexpr char kTask[] = "/flyteidl2.task.TaskService/";
constexpr char kState[] = "/flyteidl2.workflow.StateService/";

tk::TaskSpec Spec(const std::string& name) {
  tk::TaskSpec spec;
  spec.set_short_name(name);
  spec.mutable_environment()->set_name("env1");
  auto* tmpl = spec.mutable_task_template();
  tmpl->set_type("python");
  tmpl->mutable_id()->set_name(name);
  tmpl->mutable_id()->set_version("v1");
  return spec;
}

wf::CreateRunRequest CreateReq(const std::string& name) {
  wf::CreateRunRequest req;
  auto* id = req.mutable_run_id();
  id->set_org("org");
  id->set_project("proj");
  id->set_domain("dev");
  id->set_name(name);
  *req.mutable_task_spec() = Spec("hello");
  (*req.mutable_run_spec()->mutable_labels()->mutable_values())["team"] = "ml";
  req.mutable_inputs()->add_literals()->set_name("x");
  return req;
}

flyteidl2::common::RunIdentifier RunId(const std::string& name) {
  flyteidl2::common::RunIdentifier id;
  id.set_org("org");
  id.set_project("proj");
  id.set_domain("dev");
  id.set_name(name);
  return id;
}

flyteidl2::common::ActionIdentifier ActionId(const std::string& run, const std::string& name) {
  flyteidl2::common::ActionIdentifier id;
  *id.mutable_run() = RunId(run);
  id.set_name(name);
  return id;
}

bool Mentions(const absl::Status& s, const std::string& what) {
  return std::string(s.message()).find(what) != std::string::npos;
}

TEST_CASE("CreateRun validates with field paths; a taken name returns the run to the same request only",
          "[api][sqlite]") {
  Env env;
  wf::CreateRunResponse resp;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("first"), &resp).ok());
  CHECK(resp.run().action().id().name() == "a0");
  CHECK(resp.run().action().id().run().name() == "first");
  CHECK(resp.run().action().status().phase() == flyteidl2::common::ACTION_PHASE_QUEUED);
  CHECK(resp.run().action().metadata().task().short_name() == "hello");
  CHECK(resp.run().action().metadata().environment_name() == "env1");
  CHECK(resp.run().labels().at("team") == "ml");

  // The identical request (a client retrying after a lost reply) gets the run as it is now.
  wf::PutRequest put;
  *put.mutable_action_id() = ActionId("first", "a0");
  put.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_RUNNING"})");
  wf::PutResponse put_resp;
  REQUIRE(env.Call(std::string(kState) + "Put", put, &put_resp).ok());
  wf::CreateRunResponse again;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("first"), &again).ok());
  CHECK(again.run().action().id().run().name() == "first");
  CHECK(again.run().action().status().phase() == flyteidl2::common::ACTION_PHASE_RUNNING);
  // Another request with that name: other inputs, another task, another label.
  wf::CreateRunRequest other = CreateReq("first");
  other.mutable_inputs()->mutable_literals(0)->set_name("y");
  absl::Status dup = env.Call(std::string(kRun) + "CreateRun", other, &again);
  CHECK(dup.code() == StatusCode::kAlreadyExists);
  CHECK(Mentions(dup, "run first already exists"));
  other = CreateReq("first");
  other.mutable_task_spec()->set_short_name("bye");
  CHECK(env.Call(std::string(kRun) + "CreateRun", other, &again).code() == StatusCode::kAlreadyExists);
  other = CreateReq("first");
  (*other.mutable_run_spec()->mutable_labels()->mutable_values())["extra"] = "1";
  CHECK(env.Call(std::string(kRun) + "CreateRun", other, &again).code() == StatusCode::kAlreadyExists);
  // The default org spelled out and map entries in another order are still the same request.
  wf::CreateRunRequest labelled = CreateReq("second");
  labelled.mutable_run_id()->set_org("");
  for (const char* k : {"a", "b", "c", "d", "e"}) {
    (*labelled.mutable_run_spec()->mutable_labels()->mutable_values())[k] = k;
  }
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", labelled, &resp).ok());
  wf::CreateRunRequest reordered = CreateReq("second");
  reordered.mutable_run_id()->set_org("local");
  reordered.mutable_run_spec()->mutable_labels()->mutable_values()->clear();
  for (const char* k : {"e", "d", "team", "c", "b", "a"}) {
    (*reordered.mutable_run_spec()->mutable_labels()->mutable_values())[k] = std::string(k) == "team" ? "ml" : k;
  }
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", reordered, &again).ok());
  CHECK(again.run().action().id().run().org() == "local");
  other = CreateReq("first");
  other.mutable_task_spec()->set_short_name("bye");
  CHECK(env.Call(std::string(kRun) + "CreateRun", other, &again).code() == StatusCode::kAlreadyExists);

  auto req = CreateReq("x");
  req.mutable_run_id()->clear_project();
  absl::Status s = env.Call(std::string(kRun) + "CreateRun", req, &resp);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(s, "run_id.project is required"));

  s = env.Call(std::string(kRun) + "CreateRun", CreateReq("Bad_Name"), &resp);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(s, "run_id.name"));

  req = CreateReq("no-task");
  req.clear_task_spec();
  s = env.Call(std::string(kRun) + "CreateRun", req, &resp);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(s, "task_id or task_spec"));

  req = CreateReq("by-id");
  req.clear_task_spec();
  auto* tid = req.mutable_task_id();
  tid->set_org("org");
  tid->set_project("proj");
  tid->set_domain("dev");
  tid->set_name("ghost");
  s = env.Call(std::string(kRun) + "CreateRun", req, &resp);
  CHECK(Mentions(s, "task_id.version is required"));
  tid->set_version("v1");
  CHECK(env.Call(std::string(kRun) + "CreateRun", req, &resp).code() == StatusCode::kNotFound);

  // Generated name from a project id.
  req = CreateReq("");
  req.clear_run_id();
  req.mutable_project_id()->set_organization("org");
  req.mutable_project_id()->set_name("proj");
  req.mutable_project_id()->set_domain("dev");
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", req, &resp).ok());
  CHECK(resp.run().action().id().run().name().size() == 20);
}

TEST_CASE("GetRunDetails and GetActionDetails carry specs, metadata and attempts", "[api][sqlite]") {
  Env env;
  wf::CreateRunResponse created;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("details"), &created).ok());
  wf::PutRequest put;
  *put.mutable_action_id() = ActionId("details", "a0");
  put.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_RUNNING"})");
  wf::PutResponse put_resp;
  REQUIRE(env.Call(std::string(kState) + "Put", put, &put_resp).ok());
  REQUIRE(put_resp.status().code() == 0);

  wf::GetRunDetailsRequest req;
  *req.mutable_run_id() = RunId("details");
  wf::GetRunDetailsResponse resp;
  REQUIRE(env.Call(std::string(kRun) + "GetRunDetails", req, &resp).ok());
  CHECK(resp.details().run_spec().labels().values().at("team") == "ml");
  const auto& d = resp.details().action();
  CHECK(d.task().short_name() == "hello");
  CHECK(d.task().task_template().type() == "python");
  CHECK(d.status().phase() == flyteidl2::common::ACTION_PHASE_RUNNING);
  CHECK(d.status().attempts() == 1);
  REQUIRE(d.attempts_size() == 1);
  CHECK(d.attempts(0).phase_transitions_size() >= 1);
  CHECK(d.metadata().action_type() == wf::ACTION_TYPE_TASK);

  *req.mutable_run_id() = RunId("missing");
  CHECK(env.Call(std::string(kRun) + "GetRunDetails", req, &resp).code() == StatusCode::kNotFound);
  req.mutable_run_id()->clear_domain();
  absl::Status s = env.Call(std::string(kRun) + "GetRunDetails", req, &resp);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(s, "run_id.domain is required"));

  wf::GetActionDetailsRequest areq;
  *areq.mutable_action_id() = ActionId("details", "a0");
  wf::GetActionDetailsResponse aresp;
  REQUIRE(env.Call(std::string(kRun) + "GetActionDetails", areq, &aresp).ok());
  CHECK(aresp.details().id().name() == "a0");
  areq.mutable_action_id()->clear_name();
  s = env.Call(std::string(kRun) + "GetActionDetails", areq, &aresp);
  CHECK(Mentions(s, "action_id.name is required"));

  wf::GetActionDataRequest dreq;
  *dreq.mutable_action_id() = ActionId("details", "a0");
  wf::GetActionDataResponse dresp;
  REQUIRE(env.Call(std::string(kRun) + "GetActionData", dreq, &dresp).ok());
  REQUIRE(dresp.inputs().literals_size() == 1);
  CHECK(dresp.inputs().literals(0).name() == "x");
}

TEST_CASE("ListRuns validates the list request and pages with decimal tokens", "[api][sqlite]") {
  Env env;
  for (const char* name : {"r-1", "r-2", "r-3"}) {
    wf::CreateRunResponse resp;
    REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq(name), &resp).ok());
    env.clock.Advance(std::chrono::seconds(1));
  }
  wf::ListRunsRequest req;
  req.mutable_project_id()->set_organization("org");
  req.mutable_project_id()->set_name("proj");
  req.mutable_project_id()->set_domain("dev");
  req.mutable_request()->set_limit(2);
  wf::ListRunsResponse resp;
  REQUIRE(env.Call(std::string(kRun) + "ListRuns", req, &resp).ok());
  CHECK(resp.runs_size() == 2);
  CHECK(resp.token() == "2");
  req.mutable_request()->set_token(resp.token());
  resp.Clear();
  REQUIRE(env.Call(std::string(kRun) + "ListRuns", req, &resp).ok());
  CHECK(resp.runs_size() == 1);
  CHECK(resp.token().empty());

  auto expect_invalid = [&](const wf::ListRunsRequest& r, const std::string& what) {
    wf::ListRunsResponse out;
    absl::Status s = env.Call(std::string(kRun) + "ListRuns", r, &out);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(Mentions(s, what));
  };
  auto bad = req;
  bad.mutable_request()->set_token("abc");
  expect_invalid(bad, "request.token");
  bad = req;
  bad.mutable_request()->set_limit(500);
  expect_invalid(bad, "request.limit 500 exceeds the maximum 200");
  bad = req;
  auto* f = bad.mutable_request()->add_filters();
  f->set_field("color");
  f->add_values("x");
  expect_invalid(bad, "request.filters[0].field");
  f->set_field("phase");
  f->set_function(flyteidl2::common::Filter::VALUE_NOT_IN);
  expect_invalid(bad, "request.filters[0].function");
  bad = req;
  bad.mutable_request()->add_sort_by_fields()->set_key("color");
  expect_invalid(bad, "request.sort_by_fields[0]");
  bad = req;
  bad.clear_project_id();
  expect_invalid(bad, "is required");

  // A filter on the allowlist narrows the result.
  auto named = req;
  named.mutable_request()->set_token("");
  auto* nf = named.mutable_request()->add_filters();
  nf->set_field("name");
  nf->set_function(flyteidl2::common::Filter::EQUAL);
  nf->add_values("r-2");
  resp.Clear();
  REQUIRE(env.Call(std::string(kRun) + "ListRuns", named, &resp).ok());
  REQUIRE(resp.runs_size() == 1);
  CHECK(resp.runs(0).action().id().run().name() == "r-2");
}

TEST_CASE("ListRuns takes the labels.<key> and created_by filters the SDK sends", "[api][sqlite]") {
  Env env;
  wf::CreateRunResponse resp;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("r-ml"), &resp).ok());  // labels {team: ml}
  wf::CreateRunRequest web = CreateReq("r-web");
  (*web.mutable_run_spec()->mutable_labels()->mutable_values())["team"] = "web";
  (*web.mutable_run_spec()->mutable_labels()->mutable_values())["tier"] = "gold";
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", web, &resp).ok());
  using F = flyteidl2::common::Filter;
  auto list = [&](std::vector<F> filters) -> absl::StatusOr<std::vector<std::string>> {
    wf::ListRunsRequest req;
    req.mutable_project_id()->set_organization("org");
    req.mutable_project_id()->set_name("proj");
    req.mutable_project_id()->set_domain("dev");
    for (F& f : filters) *req.mutable_request()->add_filters() = std::move(f);
    wf::ListRunsResponse out;
    absl::Status s = env.Call(std::string(kRun) + "ListRuns", req, &out);
    if (!s.ok()) return s;
    std::vector<std::string> names;
    for (const auto& r : out.runs()) names.push_back(r.action().id().run().name());
    std::sort(names.begin(), names.end());
    return names;
  };
  auto filter = [](const std::string& field, F::Function fn, std::vector<std::string> values = {}) {
    F f;
    f.set_field(field);
    f.set_function(fn);
    for (const std::string& v : values) f.add_values(v);
    return f;
  };
  using V = std::vector<std::string>;
  CHECK(*list({filter("labels.team", F::EQUAL, {"ml"})}) == V{"r-ml"});
  CHECK(*list({filter("labels.tier", F::EXISTS)}) == V{"r-web"});
  CHECK(*list({filter("labels.tier", F::NOT_EXISTS)}) == V{"r-ml"});
  CHECK(*list({filter("labels.team", F::VALUE_IN, {"ml", "web"}), filter("labels.tier", F::EQUAL, {"gold"})}) ==
        V{"r-web"});
  // Runs created here carry no identity (no authentication): no run has a creator subject.
  CHECK(list({filter("created_by", F::EQUAL, {"someone"})})->empty());

  absl::StatusOr<V> bad = list({filter("labels.team", F::CONTAINS, {"m"})});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(bad.status(), "request.filters[0].function CONTAINS is not supported on labels"));
  bad = list({filter("labels.", F::EQUAL, {"x"})});
  CHECK(Mentions(bad.status(), "needs a label key"));
  bad = list({filter("labels.team", F::EXISTS, {"x"})});
  CHECK(Mentions(bad.status(), "request.filters[0].values must be empty"));
  bad = list({filter("labelsteam", F::EQUAL, {"x"})});
  CHECK(Mentions(bad.status(), "request.filters[0].field \"labelsteam\" is not a filterable field"));
}

TEST_CASE("ListActions filters by phase; AbortAction cascades; abort of a terminal action is OK", "[api][sqlite]") {
  Env env;
  wf::CreateRunResponse created;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("acts"), &created).ok());
  auto put = [&](const std::string& name, const std::string& parent, const std::string& phase) {
    wf::PutRequest req;
    *req.mutable_action_id() = ActionId("acts", name);
    if (!parent.empty()) req.set_parent_action_name(parent);
    req.set_state(R"({"attempt":1,"phase":")" + phase + R"("})");
    wf::PutResponse resp;
    REQUIRE(env.Call(std::string(kState) + "Put", req, &resp).ok());
    return resp.status().code();
  };
  REQUIRE(put("c1", "a0", "ACTION_PHASE_RUNNING") == 0);
  REQUIRE(put("c2", "c1", "ACTION_PHASE_RUNNING") == 0);
  REQUIRE(put("c3", "a0", "ACTION_PHASE_SUCCEEDED") == 0);

  wf::ListActionsRequest lreq;
  *lreq.mutable_run_id() = RunId("acts");
  auto* f = lreq.mutable_request()->add_filters();
  f->set_field("phase");
  f->set_function(flyteidl2::common::Filter::VALUE_IN);
  f->add_values("ACTION_PHASE_RUNNING");
  wf::ListActionsResponse lresp;
  REQUIRE(env.Call(std::string(kRun) + "ListActions", lreq, &lresp).ok());
  CHECK(lresp.actions_size() == 2);
  for (const auto& a : lresp.actions()) CHECK(a.status().phase() == flyteidl2::common::ACTION_PHASE_RUNNING);

  wf::AbortActionRequest areq;
  *areq.mutable_action_id() = ActionId("acts", "c1");
  areq.set_reason("enough");
  wf::AbortActionResponse aresp;
  REQUIRE(env.Call(std::string(kRun) + "AbortAction", areq, &aresp).ok());
  wf::GetActionDetailsRequest greq;
  *greq.mutable_action_id() = ActionId("acts", "c2");
  wf::GetActionDetailsResponse gresp;
  REQUIRE(env.Call(std::string(kRun) + "GetActionDetails", greq, &gresp).ok());
  CHECK(gresp.details().status().phase() == flyteidl2::common::ACTION_PHASE_ABORTED);
  CHECK(gresp.details().abort_info().reason() == "enough");
  *areq.mutable_action_id() = ActionId("acts", "c3");
  CHECK(env.Call(std::string(kRun) + "AbortAction", areq, &aresp).ok());
  *areq.mutable_action_id() = ActionId("acts", "zz");
  CHECK(env.Call(std::string(kRun) + "AbortAction", areq, &aresp).code() == StatusCode::kNotFound);

  *lreq.mutable_run_id() = RunId("nope");
  CHECK(env.Call(std::string(kRun) + "ListActions", lreq, &lresp).code() == StatusCode::kNotFound);
}

TEST_CASE("StateService answers in-band: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION", "[api][sqlite]") {
  Env env;
  wf::CreateRunResponse created;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("st"), &created).ok());
  auto put = [&](const wf::PutRequest& req) {
    wf::PutResponse resp;
    REQUIRE(env.Call(std::string(kState) + "Put", req, &resp).ok());  // transport OK whatever the outcome
    return resp;
  };
  wf::PutRequest req;
  req.set_state(R"({"phase":"ACTION_PHASE_RUNNING"})");
  auto resp = put(req);
  CHECK(resp.status().code() == static_cast<int>(StatusCode::kInvalidArgument));
  CHECK(resp.status().message().find("action_id") != std::string::npos);

  *req.mutable_action_id() = ActionId("st", "a0");
  req.set_state("{not json");
  CHECK(put(req).status().code() == static_cast<int>(StatusCode::kInvalidArgument));

  req.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_SUCCEEDED"})");
  CHECK(put(req).status().code() == 0);
  req.set_state(R"({"attempt":1,"phase":"ACTION_PHASE_RUNNING"})");
  CHECK(put(req).status().code() == static_cast<int>(StatusCode::kFailedPrecondition));
  *req.mutable_action_id() = ActionId("st", "orphan");
  CHECK(put(req).status().code() == static_cast<int>(StatusCode::kNotFound));

  wf::GetRequest get;
  *get.mutable_action_id() = ActionId("st", "a0");
  wf::GetResponse got;
  REQUIRE(env.Call(std::string(kState) + "Get", get, &got).ok());
  CHECK(got.status().code() == 0);
  CHECK(got.state().find("ACTION_PHASE_SUCCEEDED") != std::string::npos);
  *get.mutable_action_id() = ActionId("st", "nope");
  REQUIRE(env.Call(std::string(kState) + "Get", get, &got).ok());
  CHECK(got.status().code() == static_cast<int>(StatusCode::kNotFound));
}

TEST_CASE("StateReportService applies a batch in order, one in-band outcome per report", "[api][sqlite]") {
  namespace sv1 = flyte::internal::state::v1;
  Env env;
  wf::CreateRunResponse created;
  REQUIRE(env.Call(std::string(kRun) + "CreateRun", CreateReq("batch"), &created).ok());
  sv1::ReportRequest req;
  auto add = [&](const std::string& action, const std::string& parent, flyteidl2::common::ActionPhase phase) {
    sv1::StateReport* r = req.add_reports();
    *r->mutable_action_id() = ActionId("batch", action);
    r->set_parent_action_name(parent);
    r->mutable_event()->set_attempt(1);
    r->mutable_event()->set_phase(phase);
  };
  add("a0", "", flyteidl2::common::ACTION_PHASE_RUNNING);
  add("c1", "a0", flyteidl2::common::ACTION_PHASE_INITIALIZING);  // unknown child: created under its parent
  add("c1", "a0", flyteidl2::common::ACTION_PHASE_SUCCEEDED);
  add("zz", "", flyteidl2::common::ACTION_PHASE_RUNNING);         // unknown, no parent
  add("a0", "", flyteidl2::common::ACTION_PHASE_QUEUED);          // backwards
  add("a0", "", flyteidl2::common::ACTION_PHASE_SUCCEEDED);
  req.add_reports()->mutable_event()->set_phase(flyteidl2::common::ACTION_PHASE_RUNNING);  // no action id
  sv1::ReportResponse resp;
  REQUIRE(env.Call("/flyte.internal.state.v1.StateReportService/Report", req, &resp).ok());
  REQUIRE(resp.statuses_size() == 7);
  CHECK(resp.statuses(0).code() == 0);
  CHECK(resp.statuses(1).code() == 0);
  CHECK(resp.statuses(2).code() == 0);
  CHECK(resp.statuses(3).code() == static_cast<int>(StatusCode::kNotFound));
  CHECK(resp.statuses(4).code() == static_cast<int>(StatusCode::kFailedPrecondition));
  CHECK(resp.statuses(5).code() == 0);
  CHECK(resp.statuses(6).code() == static_cast<int>(StatusCode::kInvalidArgument));
  CHECK(resp.statuses(6).message().find("reports[6].action_id") != std::string::npos);

  for (const auto& [action, phase] : {std::pair<std::string, std::string>{"a0", "ACTION_PHASE_SUCCEEDED"},
                                      std::pair<std::string, std::string>{"c1", "ACTION_PHASE_SUCCEEDED"}}) {
    wf::GetRequest get;
    *get.mutable_action_id() = ActionId("batch", action);
    wf::GetResponse got;
    REQUIRE(env.Call(std::string(kState) + "Get", get, &got).ok());
    CHECK(got.status().code() == 0);
    CHECK(got.state().find(phase) != std::string::npos);
  }

  // A child whose named parent does not exist is not created.
  req.clear_reports();
  add("c2", "nope", flyteidl2::common::ACTION_PHASE_RUNNING);
  sv1::ReportResponse orphan;
  REQUIRE(env.Call("/flyte.internal.state.v1.StateReportService/Report", req, &orphan).ok());
  REQUIRE(orphan.statuses_size() == 1);
  CHECK(orphan.statuses(0).code() == static_cast<int>(StatusCode::kNotFound));
  CHECK(orphan.statuses(0).message().find("parent action batch/nope not found") != std::string::npos);

  sv1::ReportRequest empty;
  CHECK(env.Call("/flyte.internal.state.v1.StateReportService/Report", empty, &resp).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("TaskService deploys, redeploys, lists latest versions and validates", "[api][sqlite]") {
  Env env;
  auto deploy = [&](const std::string& name, const std::string& version, const std::string& short_name) {
    tk::DeployTaskRequest req;
    auto* id = req.mutable_task_id();
    id->set_org("org");
    id->set_project("proj");
    id->set_domain("dev");
    id->set_name(name);
    id->set_version(version);
    *req.mutable_spec() = Spec(short_name);
    tk::DeployTaskResponse resp;
    return env.Call(std::string(kTask) + "DeployTask", req, &resp);
  };
  REQUIRE(deploy("t", "v1", "first").ok());
  REQUIRE(deploy("t", "v1", "second").ok());  // redeploy updates
  env.clock.Advance(std::chrono::seconds(1));
  REQUIRE(deploy("t", "v2", "third").ok());
  REQUIRE(deploy("u", "v1", "other").ok());
  absl::Status s = deploy("t", "", "x");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Mentions(s, "task_id.version is required"));

  tk::GetTaskDetailsRequest get;
  auto* id = get.mutable_task_id();
  id->set_org("org");
  id->set_project("proj");
  id->set_domain("dev");
  id->set_name("t");
  id->set_version("v1");
  tk::GetTaskDetailsResponse details;
  REQUIRE(env.Call(std::string(kTask) + "GetTaskDetails", get, &details).ok());
  CHECK(details.details().spec().short_name() == "second");
  CHECK(details.details().metadata().environment_name() == "env1");
  id->set_version("v9");
  CHECK(env.Call(std::string(kTask) + "GetTaskDetails", get, &details).code() == StatusCode::kNotFound);

  tk::ListTasksRequest list;
  list.mutable_project_id()->set_organization("org");
  list.mutable_project_id()->set_name("proj");
  list.mutable_project_id()->set_domain("dev");
  tk::ListTasksResponse tasks;
  REQUIRE(env.Call(std::string(kTask) + "ListTasks", list, &tasks).ok());
  REQUIRE(tasks.tasks_size() == 2);
  for (const auto& t : tasks.tasks()) {
    if (t.task_id().name() == "t") CHECK(t.task_id().version() == "v2");
  }

  tk::ListVersionsRequest versions;
  auto* n = versions.mutable_task_name();
  n->set_org("org");
  n->set_project("proj");
  n->set_domain("dev");
  n->set_name("t");
  tk::ListVersionsResponse vresp;
  REQUIRE(env.Call(std::string(kTask) + "ListVersions", versions, &vresp).ok());
  CHECK(vresp.versions_size() == 2);
  n->clear_name();
  s = env.Call(std::string(kTask) + "ListVersions", versions, &vresp);
  CHECK(Mentions(s, "task_name.name is required"));
}

}  // namespace
}  // namespace flyte::runs
