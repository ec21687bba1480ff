// ProjectService: seeding from config, persistence across restarts, the filters and sort the SDK sends, and the
// runs-service wiring (setup) of the SDK-facing services.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "api/project_service_api.h"
#include "flyte/db/database.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/cluster/service.pb.h"
#include "flyteidl2/project/project_service.pb.h"
#include "repository/store_factory.h"
#include "service/project_use_cases.h"
#include "setup.h"

namespace flyte::runs {
namespace {

namespace pj = flyteidl2::project;
using absl::StatusCode;

const std::vector<std::string> kDomains = {"development", "staging", "production"};

template <class Req, class Resp>
absl::Status Call(rpc::Router& router, const std::string& path, const Req& req, Resp* resp) {
  const rpc::Method* m = router.Find(path);
  REQUIRE(m != nullptr);
  return m->unary(rpc::CallContext{}, req, resp);
}

TEST_CASE("projects are seeded, persisted and updated", "[sqlite]") {
  testing::TempSqlite db;
  common::FakeClock clock;
  {
    auto store = OpenStore(db.database_config());
    REQUIRE(store.ok());
    ProjectUseCases uc((*store)->Projects(), clock, kDomains);
    REQUIRE(uc.EnsureProjects({"flytesnacks"}).ok());
    REQUIRE(uc.EnsureProjects({"flytesnacks"}).ok());  // idempotent
    ProjectRecord p;
    p.id = "ml";
    p.description = "models";
    p.labels["team"] = "a";
    REQUIRE(uc.CreateProject(p).ok());
    CHECK(uc.CreateProject(p).code() == StatusCode::kAlreadyExists);
    p.id = "Bad Id";
    CHECK(uc.CreateProject(p).code() == StatusCode::kInvalidArgument);
  }
  auto reopened = OpenStore(db.database_config());
  REQUIRE(reopened.ok());
  ProjectUseCases uc((*reopened)->Projects(), clock, kDomains);
  auto ml = uc.GetProject("ml");
  REQUIRE(ml.ok());
  CHECK(ml->name == "ml");
  CHECK(ml->labels.at("team") == "a");
  ProjectRecord upd = *ml;
  upd.name = "";
  upd.state = ProjectState::kArchived;
  REQUIRE(uc.UpdateProject(upd).ok());
  CHECK(uc.GetProject("ml")->state == ProjectState::kArchived);
  CHECK(uc.GetProject("ml")->name == "ml");
  upd.id = "nope";
  CHECK(uc.UpdateProject(upd).code() == StatusCode::kNotFound);
  CHECK(uc.GetProject("nope").status().code() == StatusCode::kNotFound);

  // The scope check CreateRun, DeployTask and UploadInputs use: archived projects still exist.
  CHECK(uc.CheckScope("ml", "staging").ok());
  absl::Status st = uc.CheckScope("nosuchproject", "development");
  CHECK(st.code() == StatusCode::kNotFound);
  CHECK(std::string(st.message()).find("project nosuchproject not found") != std::string::npos);
  st = uc.CheckScope("flytesnacks", "qa");
  CHECK(st.code() == StatusCode::kNotFound);
  CHECK(std::string(st.message()).find("domain qa not found") != std::string::npos);
  CHECK(std::string(st.message()).find("development, staging, production") != std::string::npos);
}

TEST_CASE("the scope check remembers the projects it found, never the ones it did not", "[sqlite]") {
  testing::TempSqlite db;
  common::FakeClock clock;
  auto store = OpenStore(db.database_config());
  REQUIRE(store.ok());
  auto other_replica = OpenStore(db.database_config());
  REQUIRE(other_replica.ok());
  ProjectUseCases uc((*store)->Projects(), clock, kDomains);
  ProjectUseCases other((*other_replica)->Projects(), clock, kDomains);

  // Refused, then created on another replica: accepted here at once (a refusal is not remembered).
  CHECK(uc.CheckScope("late", "development").code() == StatusCode::kNotFound);
  ProjectRecord p;
  p.id = "late";
  REQUIRE(other.CreateProject(p).ok());
  CHECK(uc.CheckScope("late", "development").ok());

  // Found once, it is not read again (projects are never deleted): only a row removed behind the service's back
  // shows it. A check that has not seen the project yet reads the table and refuses it.
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> raw = flyte::db::Open(db.database_config());
  REQUIRE(raw.ok());
  REQUIRE((*raw)->Write("delete", [](flyte::db::Tx& tx) {
    return tx.Exec("DELETE FROM projects WHERE id = ?", {std::string("late")}).status();
  }).ok());
  CHECK(uc.CheckScope("late", "staging").ok());
  CHECK(uc.CheckScope("late", "qa").code() == StatusCode::kNotFound);  // the domain is still checked
  CHECK(other.CheckScope("late", "development").code() == StatusCode::kNotFound);
}

TEST_CASE("a projects file of earlier versions is imported once", "[sqlite]") {
  testing::TempDir dir;
  testing::TempSqlite db;
  const std::filesystem::path file = dir.path() / "projects.json";
  std::ofstream(file) << R"({"projects": [{"id": "old", "name": "Old one", "description": "d", "org": "",
    "labels": {"k": "v"}, "state": 1, "createdAtMicros": 1700000000000000}, {"id": "flytesnacks"}]})";
  common::FakeClock clock;
  auto store = OpenStore(db.database_config());
  REQUIRE(store.ok());
  ProjectUseCases uc((*store)->Projects(), clock, kDomains);
  REQUIRE(uc.EnsureProjects({"flytesnacks"}).ok());
  absl::StatusOr<int> imported = uc.ImportProjectsFile(file.string());
  REQUIRE(imported.ok());
  CHECK(*imported == 1);  // flytesnacks exists already
  imported = uc.ImportProjectsFile(file.string());
  REQUIRE(imported.ok());
  CHECK(*imported == 0);
  auto old = uc.GetProject("old");
  REQUIRE(old.ok());
  CHECK(old->name == "Old one");
  CHECK(old->labels.at("k") == "v");
  CHECK(old->state == ProjectState::kArchived);
  CHECK(*uc.ImportProjectsFile((dir.path() / "absent.json").string()) == 0);
  std::ofstream(dir.path() / "bad.json") << "{not json";
  CHECK(uc.ImportProjectsFile((dir.path() / "bad.json").string()).status().code() == StatusCode::kInternal);
}

TEST_CASE("ListProjects answers the SDK's state filter, sort and paging", "[api]") {
  common::FakeClock clock;
  testing::TempSqlite db;
  auto store = OpenStore(db.database_config());
  REQUIRE(store.ok());
  ProjectUseCases uc((*store)->Projects(), clock, kDomains);
  for (const char* id : {"b", "a", "c"}) {
    ProjectRecord p;
    p.id = id;
    REQUIRE(uc.CreateProject(p).ok());
    clock.Advance(std::chrono::seconds(1));
  }
  ProjectRecord archived = *uc.GetProject("c");
  archived.state = ProjectState::kArchived;
  REQUIRE(uc.UpdateProject(archived).ok());

  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  api::ProjectServiceApi api(uc);
  api.Register(router);
  pj::ListProjectsRequest req;  // what Project.listall() sends
  req.set_limit(100);
  req.set_filters("eq(state, 0)");
  req.mutable_sort_by()->set_key("created_at");
  req.mutable_sort_by()->set_direction(flyteidl2::common::Sort::ASCENDING);
  pj::ListProjectsResponse resp;
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &resp).ok());
  REQUIRE(resp.projects().projects_size() == 2);
  CHECK(resp.projects().projects(0).id() == "b");
  CHECK(resp.projects().projects(1).id() == "a");
  CHECK(resp.projects().projects(0).domains_size() == 3);
  CHECK(resp.projects().projects(0).domains(0).id() == "development");
  CHECK(resp.projects().token().empty());

  req.set_filters("eq(state, 1)");
  resp.Clear();
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &resp).ok());
  REQUIRE(resp.projects().projects_size() == 1);
  CHECK(resp.projects().projects(0).id() == "c");

  req.set_filters("");
  req.set_limit(2);
  req.mutable_sort_by()->set_key("id");
  pj::ListProjectsResponse page1, page2;
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &page1).ok());
  REQUIRE(page1.projects().projects_size() == 2);
  CHECK(page1.projects().projects(0).id() == "a");
  REQUIRE_FALSE(page1.projects().token().empty());
  req.set_token(page1.projects().token());
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &page2).ok());
  REQUIRE(page2.projects().projects_size() == 1);
  CHECK(page2.projects().projects(0).id() == "c");

  req.set_token("");
  req.set_filters("gt(created_at, 1)");
  CHECK(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &resp).code() ==
        StatusCode::kInvalidArgument);
  req.set_filters("eq(owner, x)");
  CHECK(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &resp).code() ==
        StatusCode::kInvalidArgument);

  pj::GetProjectRequest get;
  get.set_id("a");
  pj::GetProjectResponse got;
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/GetProject", get, &got).ok());
  CHECK(got.project().name() == "a");
  pj::UpdateProjectRequest bad_update;
  *bad_update.mutable_project() = got.project();  // still carries domains
  pj::UpdateProjectResponse upd;
  CHECK(Call(router, "/flyteidl2.project.ProjectService/UpdateProject", bad_update, &upd).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("runs-service serves the SDK's extra services and seeds configured projects", "[api][sqlite]") {
  testing::TempDir dir;
  absl::StatusOr<Config> cfg = ParseConfig(
      "runs:\n  server: {host: 127.0.0.1, port: 0}\n  storagePrefix: " + (dir.path() / "data").string() +
      "\n  projects: \"flytesnacks, other\"\n  domains: development\ndatabase:\n  sqlite: {file: " +
      (dir.path() / "runs.db").string() + "}\n");
  REQUIRE(cfg.ok());
  CHECK(cfg->storage_prefix == "file://" + (dir.path() / "data").string());
  auto service = RunsService::Create(*cfg);
  REQUIRE(service.ok());
  REQUIRE((*service)->Start().ok());
  rpc::Router& router = (*service)->router();
  pj::ListProjectsRequest req;
  pj::ListProjectsResponse resp;
  REQUIRE(Call(router, "/flyteidl2.project.ProjectService/ListProjects", req, &resp).ok());
  REQUIRE(resp.projects().projects_size() == 2);
  CHECK(resp.projects().projects(1).id() == "other");
  CHECK(resp.projects().projects(1).domains_size() == 1);
  flyteidl2::cluster::SelectClusterRequest sel;
  flyteidl2::cluster::SelectClusterResponse selected;
  REQUIRE(Call(router, "/flyteidl2.cluster.ClusterService/SelectCluster", sel, &selected).ok());
  CHECK(router.Find("/flyteidl2.dataproxy.DataProxyService/CreateUploadLocation") != nullptr);
  (*service)->Shutdown();

  CHECK_FALSE(ParseConfig("runs:\n  domains: \" , \"\n").ok());
  CHECK(ParseConfig("runs:\n  storagePrefix: s3://bucket/x\n")->storage_prefix == "s3://bucket/x");
}

}  // namespace
}  // namespace flyte::runs
