// RecentActionRows: what a PostgreSQL store remembers of the rows it wrote stays bounded and never goes back to an
// older row.
#include <catch2/catch.hpp>

#include "repository/recent_action_rows.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;

namespace {

EventPlan Wrote(const std::string& name, Phase phase, int64_t version, uint32_t attempt = 1) {
  Action a = MakeChild("r1", name, "a0");
  a.phase = phase;
  a.version = version;
  a.attempts = attempt;
  Attempt row;
  row.attempt = attempt;
  row.phase = phase;
  EventPlan plan;
  plan.actions.push_back(a);
  plan.attempts.emplace_back(AttemptId{a.key, attempt}, row);
  return plan;
}

}  // namespace

TEST_CASE("remembered rows: the newest version with its attempt rows, and terminal actions forgotten", "[runs]") {
  RecentActionRows rows(16);
  rows.Remember(Wrote("c1", Phase::kRunning, 3));
  std::optional<RecentActionRows::Entry> e = rows.Find(KeyOf("r1", "c1"));
  REQUIRE(e.has_value());
  CHECK(e->action->version == 3);
  REQUIRE(e->attempts.size() == 1);
  CHECK(e->attempts.begin()->second.phase == Phase::kRunning);

  rows.Remember(Wrote("c1", Phase::kInitializing, 2));  // a racing write that committed earlier, remembered late
  CHECK(rows.Find(KeyOf("r1", "c1"))->action->version == 3);

  rows.Remember(Wrote("c1", Phase::kQueued, 5, 2));  // a retry: attempt 2's row replaces attempt 1's
  e = rows.Find(KeyOf("r1", "c1"));
  CHECK(e->action->version == 5);
  REQUIRE(e->attempts.size() == 1);
  CHECK(e->attempts.begin()->first.attempt == 2);

  rows.Remember(Wrote("c1", Phase::kSucceeded, 6, 2));
  CHECK_FALSE(rows.Find(KeyOf("r1", "c1")).has_value());
  CHECK(rows.size() == 0);

  rows.Remember(Wrote("c2", Phase::kRunning, 2));
  rows.Forget(KeyOf("r1", "c2"));
  CHECK_FALSE(rows.Find(KeyOf("r1", "c2")).has_value());
}

TEST_CASE("remembered rows: never more than the capacity, the newest write always kept", "[runs]") {
  RecentActionRows rows(100);
  for (int i = 0; i < 10000; ++i) {
    rows.Remember(Wrote("c" + std::to_string(i), Phase::kRunning, 2));
    REQUIRE(rows.size() <= 100);
    REQUIRE(rows.Find(KeyOf("r1", "c" + std::to_string(i))).has_value());
  }
  CHECK(rows.size() == 100);
  RecentActionRows none(0);
  none.Remember(Wrote("c1", Phase::kRunning, 2));
  CHECK(none.size() == 0);
}
