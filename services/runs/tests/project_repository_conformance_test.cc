// Conformance suite of the ProjectRepository and SecretRepository ports: every case runs against SQLite and
// PostgreSQL. Two Stores on one database stand for two replicas (or one replica before and after a restart).
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using Code = absl::StatusCode;

namespace {

ProjectRecord Project(const std::string& id, int64_t created_s) {
  ProjectRecord p;
  p.id = id;
  p.name = "Name of " + id;
  p.description = "about " + id;
  p.org = "testorg";
  p.labels = {{"team", "ml"}, {"quote", "a \"b\" \\ c"}};
  p.state = ProjectState::kActive;
  p.created_at = At(created_s);
  return p;
}

}  // namespace

TEST_CASE("projects: create, get, update, list, seen by another replica", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  ProjectRepository& projects = b.store->Projects();
  REQUIRE(projects.Create(Project("beta", 2)).ok());
  REQUIRE(projects.Create(Project("alpha", 1)).ok());
  REQUIRE(projects.Create(Project("gamma", 2)).ok());
  CHECK(projects.Create(Project("alpha", 9)).code() == Code::kAlreadyExists);

  std::unique_ptr<Store> other = b.Open();  // another replica on the same database
  absl::StatusOr<ProjectRecord> got = other->Projects().Get("alpha");
  REQUIRE(got.ok());
  CHECK(*got == Project("alpha", 1));
  CHECK(other->Projects().Get("nope").status().code() == Code::kNotFound);

  absl::StatusOr<std::vector<ProjectRecord>> all = other->Projects().List();
  REQUIRE(all.ok());
  std::vector<std::string> ids;
  for (const ProjectRecord& p : *all) ids.push_back(p.id);
  CHECK(ids == std::vector<std::string>{"alpha", "beta", "gamma"});  // created_at, then id

  ProjectRecord changed = Project("beta", 99);
  changed.name = "renamed";
  changed.labels = {};
  changed.state = ProjectState::kArchived;
  REQUIRE(other->Projects().Update(changed).ok());
  got = projects.Get("beta");
  REQUIRE(got.ok());
  CHECK(got->name == "renamed");
  CHECK(got->labels.empty());
  CHECK(got->state == ProjectState::kArchived);
  CHECK(got->created_at == At(2));  // kept
  CHECK(projects.Update(Project("nope", 1)).code() == Code::kNotFound);
}

TEST_CASE("secrets: the first value stored wins, for every replica", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < 4; ++i) replicas.push_back(b.Open());
  std::vector<std::string> seen(replicas.size());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replicas.size(); ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::string> v =
          replicas[i]->Secrets().GetOrCreate("signing", "candidate-" + std::to_string(i) + std::string("\x00\xff", 2));
      if (!v.ok()) {
        ++failures;
        return;
      }
      seen[i] = *v;
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures == 0);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 1);
  CHECK(seen[0].rfind("candidate-", 0) == 0);
  CHECK(seen[0].substr(seen[0].size() - 2) == std::string("\x00\xff", 2));  // bytes, verbatim
  // Later calls (a restart) get the stored value, not their candidate; other names are separate.
  CHECK(*b.Open()->Secrets().GetOrCreate("signing", "new") == seen[0]);
  CHECK(*b.store->Secrets().GetOrCreate("other", "x") == "x");
}
