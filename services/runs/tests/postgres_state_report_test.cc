// State reports on PostgreSQL beyond the shared conformance (state_report_conformance_test.cc): a replica writes a
// report on an action it wrote last from the row it remembers, without reading it (recent_action_rows.h), so these
// check that what other writers did in between is never overwritten, and that key lookups in a large run use the
// primary key (migration 0014).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/db/database.h"
#include "repository/sql_store.h"
#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;
using Code = absl::StatusCode;

namespace {

std::vector<Phase> History(ActionRepository& actions, const ActionKey& key, uint32_t attempt) {
  absl::StatusOr<ActionWithAttempts> full = actions.GetWithAttempts(key);
  REQUIRE(full.ok());
  std::vector<Phase> phases;
  for (const Attempt& a : full->attempts) {
    if (a.attempt != attempt) continue;
    for (const PhaseTransition& t : a.transitions) phases.push_back(t.phase);
  }
  return phases;
}

// Two replicas on one database, and run r1 with child c1 created through the first.
struct TwoReplicasAndChild {
  Backend b{"postgres"};
  std::unique_ptr<Store> other = b.Open();
  const ActionKey c1 = KeyOf("r1", "c1");
  TwoReplicasAndChild() {
    REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
    REQUIRE(b.actions().CreateAction(MakeChild("r1", "c1", "a0")).ok());
  }
};

}  // namespace

TEST_CASE_METHOD(TwoReplicasAndChild,
                 "postgres: a report on a remembered row keeps what another replica wrote in between",
                 "[repository][postgres]") {

  // This replica writes INITIALIZING (and so remembers the row at version 2); the other one then moves the action
  // on and adds a cluster event to the attempt.
  REQUIRE(b.actions().ApplyEvent(c1, MakeEvent(1, Phase::kInitializing, 10)).ok());
  ActionEvent running = MakeEvent(1, Phase::kRunning, 20);
  running.cluster_events = {ClusterEvent{At(19), "started by the other replica", 1, "Started"}};
  absl::StatusOr<Action> theirs = other->Actions().ApplyEvent(c1, running);
  REQUIRE(theirs.ok());
  CHECK(theirs->version == 3);

  // This replica's next report builds on the stored row (version 3), not on the one it remembers (version 2).
  ActionEvent done = MakeEvent(1, Phase::kSucceeded, 30);
  done.output_uri = "s3://out/c1";
  absl::StatusOr<Action> mine = b.actions().ApplyEvent(c1, done);
  REQUIRE(mine.ok());
  CHECK(mine->version == 4);
  CHECK(mine->phase == Phase::kSucceeded);
  CHECK(History(b.actions(), c1, 1) == std::vector<Phase>{Phase::kInitializing, Phase::kRunning, Phase::kSucceeded});
  absl::StatusOr<ActionWithAttempts> stored = other->Actions().GetWithAttempts(c1);
  REQUIRE(stored.ok());
  CHECK(stored->action.version == 4);
  CHECK(stored->action.output_uri == "s3://out/c1");
  REQUIRE(stored->attempts.size() == 1);
  REQUIRE(stored->attempts[0].cluster_events.size() == 1);
  CHECK(stored->attempts[0].cluster_events[0].message == "started by the other replica");

  // Several reports in a row on one replica, each from the row the previous one wrote, interleaved with the other
  // replica's: every version counted once, every transition kept in order.
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "c2", "a0")).ok());
  const ActionKey c2 = KeyOf("r1", "c2");
  REQUIRE(b.actions().ApplyEvent(c2, MakeEvent(1, Phase::kInitializing, 10)).ok());
  REQUIRE(b.actions().ApplyEvent(c2, MakeEvent(1, Phase::kRunning, 11)).ok());
  ActionEvent failed = MakeEvent(1, Phase::kFailed, 12);
  failed.retry_follows = true;
  failed.error = ErrorInfo{"oom", ErrorKind::kSystem, "OOMKilled"};
  REQUIRE(other->Actions().ApplyEvent(c2, failed).ok());
  REQUIRE(b.actions().ApplyEvent(c2, MakeEvent(2, Phase::kQueued, 13)).ok());
  REQUIRE(b.actions().ApplyEvent(c2, MakeEvent(2, Phase::kRunning, 14)).ok());
  absl::StatusOr<Action> last = b.actions().ApplyEvent(c2, MakeEvent(2, Phase::kSucceeded, 15));
  REQUIRE(last.ok());
  CHECK(last->version == 7);
  CHECK(last->attempts == 2);
  CHECK(History(b.actions(), c2, 1) == std::vector<Phase>{Phase::kInitializing, Phase::kRunning, Phase::kFailed});
  CHECK(History(b.actions(), c2, 2) == std::vector<Phase>{Phase::kQueued, Phase::kRunning, Phase::kSucceeded});
}

TEST_CASE("postgres: a report on a remembered row after an abort is refused, on either replica",
          "[repository][postgres]") {
  Backend b("postgres");
  std::unique_ptr<Store> other = b.Open();
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  for (const char* name : {"c1", "c2"}) {
    REQUIRE(b.actions().CreateAction(MakeChild("r1", name, "a0")).ok());
    REQUIRE(b.actions().ApplyEvent(KeyOf("r1", name), MakeEvent(1, Phase::kRunning, 10)).ok());
  }
  // c1 aborted by this replica, c2 by the other one; both rows are remembered here as RUNNING.
  REQUIRE(b.actions().Abort(KeyOf("r1", "c1"), "user", At(20)).ok());
  REQUIRE(other->Actions().Abort(KeyOf("r1", "c2"), "user", At(20)).ok());
  for (const char* name : {"c1", "c2"}) {
    INFO(name);
    absl::StatusOr<Action> late = b.actions().ApplyEvent(KeyOf("r1", name), MakeEvent(1, Phase::kSucceeded, 30));
    CHECK(late.status().code() == Code::kFailedPrecondition);
    absl::StatusOr<Action> stored = b.actions().Get(KeyOf("r1", name));
    REQUIRE(stored.ok());
    CHECK(stored->phase == Phase::kAborted);
    CHECK(stored->version == 3);
    CHECK(History(b.actions(), KeyOf("r1", name), 1) == std::vector<Phase>{Phase::kRunning, Phase::kAborted});
  }
}

TEST_CASE_METHOD(TwoReplicasAndChild,
                 "postgres: concurrent reports on one action from two replicas apply each exactly once",
                 "[repository][postgres]") {
  REQUIRE(b.actions().ApplyEvent(c1, MakeEvent(1, Phase::kRunning, 10)).ok());
  REQUIRE(other->Actions().ApplyEvent(c1, MakeEvent(1, Phase::kRunning, 10)).ok());
  // Same-phase reports (each adds a cluster event), 200 from each replica at once, both remembering the row.
  constexpr int kEach = 200;
  auto report = [&](ActionRepository& actions, const std::string& who) {
    for (int i = 0; i < kEach; ++i) {
      ActionEvent ev = MakeEvent(1, Phase::kRunning, 11);
      ev.cluster_events = {ClusterEvent{At(11), who + std::to_string(i), 0, ""}};
      REQUIRE(actions.ApplyEvent(c1, ev).ok());
    }
  };
  std::thread mine([&] { report(b.actions(), "mine"); });
  report(other->Actions(), "theirs");
  mine.join();
  absl::StatusOr<ActionWithAttempts> stored = b.actions().GetWithAttempts(c1);
  REQUIRE(stored.ok());
  CHECK(stored->action.version == 3 + 2 * kEach);
  REQUIRE(stored->attempts.size() == 1);
  CHECK(stored->attempts[0].cluster_events.size() == 2 * kEach);
}

TEST_CASE("postgres: a key lookup in a run of many actions uses the primary key, not the run's other indexes",
          "[repository][postgres]") {
  Backend b("postgres");
  // Most runs hold one action (the statistics' average), one holds 400.
  for (int i = 0; i < 300; ++i) REQUIRE(b.actions().CreateRun(MakeRun("single" + std::to_string(i))).ok());
  REQUIRE(b.actions().CreateRun(MakeRun("big")).ok());
  for (int i = 0; i < 400; ++i) REQUIRE(b.actions().CreateAction(MakeChild("big", "c" + std::to_string(i), "a0")).ok());
  flyte::db::Database& db = dynamic_cast<SqlStore&>(*b.store).database();
  REQUIRE(db.Write("analyze", [](flyte::db::Tx& tx) { return tx.Exec("ANALYZE actions").status(); }).ok());
  // The plan a prepared statement settles on: the generic one (no parameter values to go by).
  std::string plan;
  REQUIRE(db.Write("plan", [&](flyte::db::Tx& tx) -> absl::Status {
               for (const char* sql :
                    {"SET LOCAL plan_cache_mode = force_generic_plan",
                     "PREPARE lookup(text, text, text, text, text) AS SELECT version FROM actions WHERE org = $1 AND "
                     "project = $2 AND domain = $3 AND run_name = $4 AND name = $5 FOR UPDATE"}) {
                 if (absl::StatusOr<int64_t> n = tx.Exec(sql); !n.ok()) return n.status();
               }
               const ActionKey k = KeyOf("big", "c200");
               absl::StatusOr<flyte::db::Rows> rows = tx.Query(
                   "EXPLAIN EXECUTE lookup('" + k.run.org + "', '" + k.run.project + "', '" + k.run.domain + "', '" +
                   k.run.name + "', '" + k.name + "')");
               if (!rows.ok()) return rows.status();
               for (const flyte::db::Row& r : *rows) plan += r.Str(0) + "\n";
               return tx.Exec("DEALLOCATE lookup").status();
             }).ok());
  INFO(plan);
  CHECK(plan.find("actions_pkey") != std::string::npos);
}
