// Conformance of the ListRuns filters the SDK sends beyond the plain columns: `labels.<key>` (with_labels,
// with_label_keys) and `created_by` (created_by_subject), on SQLite and PostgreSQL.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::Backend;
using flyte::runs::test::MakeRun;
using Code = absl::StatusCode;

namespace {

std::vector<std::string> RunNames(ActionRepository& actions, std::vector<Filter> filters) {
  ListQuery q;
  q.org = "testorg";
  q.project = "proj";
  q.domain = "dev";
  q.roots_only = true;
  q.filters = std::move(filters);
  absl::StatusOr<Page<Action>> page = actions.List(q);
  REQUIRE(page.ok());
  std::vector<std::string> out;
  for (const Action& a : page->items) out.push_back(a.key.run.name);
  std::sort(out.begin(), out.end());
  return out;
}

void CreateRun(ActionRepository& actions, const std::string& name, std::map<std::string, std::string> labels,
               const std::string& creator = "") {
  Action run = MakeRun(name, 1);
  run.created_by = creator;
  ActionRepository::RunCreation with;
  with.labels = std::move(labels);
  absl::StatusOr<Action> created = actions.CreateRunWith(run, with);
  REQUIRE(created.ok());
  CHECK(created->created_by == creator);
}

Filter Label(const std::string& key, FilterOp op, std::vector<std::string> values = {}) {
  Filter f{Field::kLabel, op, std::move(values)};
  f.key = key;
  return f;
}

}  // namespace

TEST_CASE("runs: label filters", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  ActionRepository& actions = b.actions();
  CreateRun(actions, "ml-a", {{"team", "ml"}, {"tier", "gold"}});
  CreateRun(actions, "ml-b", {{"team", "ml"}});
  CreateRun(actions, "web", {{"team", "web"}, {"tier", "gold"}});
  CreateRun(actions, "bare", {});
  // Another project's run with the same label is never in this scope.
  Action elsewhere = MakeRun("other-proj", 1, "proj2");
  ActionRepository::RunCreation with;
  with.labels = {{"team", "ml"}};
  REQUIRE(actions.CreateRunWith(elsewhere, with).ok());

  using V = std::vector<std::string>;
  CHECK(RunNames(actions, {Label("team", FilterOp::kEqual, {"ml"})}) == V{"ml-a", "ml-b"});
  CHECK(RunNames(actions, {Label("team", FilterOp::kEqual, {"ml"}), Label("tier", FilterOp::kEqual, {"gold"})}) ==
        V{"ml-a"});  // AND, as the SDK means it
  CHECK(RunNames(actions, {Label("tier", FilterOp::kExists)}) == V{"ml-a", "web"});
  CHECK(RunNames(actions, {Label("tier", FilterOp::kNotExists)}) == V{"bare", "ml-b"});
  CHECK(RunNames(actions, {Label("team", FilterOp::kValueIn, {"web", "ops"})}) == V{"web"});
  CHECK(RunNames(actions, {Label("team", FilterOp::kNotEqual, {"ml"})}) == V{"bare", "web"});
  CHECK(RunNames(actions, {Label("team", FilterOp::kEqual, {"ML"})}).empty());  // values compare exactly
  CHECK(RunNames(actions, {Label("nope", FilterOp::kExists)}).empty());
  // Mixed with a column filter.
  const Filter named{Field::kName, FilterOp::kEqual, {"ml-b"}};
  CHECK(RunNames(actions, {Label("team", FilterOp::kEqual, {"ml"}), named}) == V{"ml-b"});
  ListQuery bad;
  bad.org = "testorg";
  bad.roots_only = true;
  bad.filters = {Label("team", FilterOp::kContains, {"m"})};
  CHECK(actions.List(bad).status().code() == Code::kInvalidArgument);
}

TEST_CASE("runs: created_by filter", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  ActionRepository& actions = b.actions();
  CreateRun(actions, "by-alice", {}, "alice");
  CreateRun(actions, "by-bob", {}, "bob");
  CreateRun(actions, "anonymous", {});
  using V = std::vector<std::string>;
  CHECK(RunNames(actions, {Filter{Field::kCreatedBy, FilterOp::kEqual, {"alice"}}}) == V{"by-alice"});
  CHECK(RunNames(actions, {Filter{Field::kCreatedBy, FilterOp::kValueIn, {"alice", "bob"}}}) ==
        V{"by-alice", "by-bob"});
  CHECK(RunNames(actions, {Filter{Field::kCreatedBy, FilterOp::kEqual, {"carol"}}}).empty());
  absl::StatusOr<Action> got = actions.Get(ActionKey{RunKey{"testorg", "proj", "dev", "by-bob"}, "a0"});
  REQUIRE(got.ok());
  CHECK(got->created_by == "bob");
}
