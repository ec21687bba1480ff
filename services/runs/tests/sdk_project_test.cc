// ProjectService: seeding from config, persistence across restarts, the filters and sort the SDK sends, and the
// runs-service wiring (setup) of the SDK-facing services.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "api/project_service_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/cluster/service.pb.h"
#include "flyteidl2/project/project_service.pb.h"
#include "service/project_store.h"
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

TEST_CASE("projects are seeded, persisted and updated", "[unit]") {
  testing::TempDir dir;
  const std::string file = (dir.path() / ".flyte" / "projects.json").string();
  common::FakeClock clock;
  {
    auto store = JsonFileProjectStore::Open(file);
    REQUIRE(store.ok());
    ProjectUseCases uc(**store, clock, kDomains);
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
  auto reopened = JsonFileProjectStore::Open(file);
  REQUIRE(reopened.ok());
  ProjectUseCases uc(**reopened, clock, kDomains);
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
}

TEST_CASE("two services seeding one data root at once both start", "[unit]") {
  // flyte-manager and a runs-service (or two test processes) may share ./data: their saves must not collide.
  testing::TempDir dir;
  const std::string file = (dir.path() / ".flyte" / "projects.json").string();
  common::FakeClock clock;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto store = JsonFileProjectStore::Open(file);
      if (!store.ok()) {
        ++failures;
        return;
      }
      ProjectUseCases uc(**store, clock, kDomains);
      for (int i = 0; i < 50; ++i) {
        if (!uc.EnsureProjects({"p" + std::to_string(t) + "x" + std::to_string(i)}).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(JsonFileProjectStore::Open(file).ok());
}

TEST_CASE("ListProjects answers the SDK's state filter, sort and paging", "[api]") {
  common::FakeClock clock;
  auto store = JsonFileProjectStore::Open("");
  REQUIRE(store.ok());
  ProjectUseCases uc(**store, clock, kDomains);
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
  CHECK(std::filesystem::exists(dir.path() / "data" / ".flyte" / "projects.json"));
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
