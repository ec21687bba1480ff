// Upgrading a database written before phase history and cluster events moved into the attempt row (SQLite
// migration 0003, PostgreSQL 0004): the rows of the old phase_transitions and cluster_events tables come back from
// GetWithAttempts in their original order, and the old tables are gone. Both backends, real databases.
#include <catch2/catch.hpp>

#include "flyte/db/database.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/store_factory.h"
#include "support/builders.h"

namespace flyte::runs {
const std::vector<db::Migration>& SqliteMigrations();
const std::vector<db::Migration>& PostgresMigrations();
}  // namespace flyte::runs

using namespace flyte::runs;
using flyte::runs::test::At;

namespace {

int64_t Us(int64_t seconds) { return flyte::common::ToUnixMicros(At(seconds)); }

// Writes one action with two attempts and their history the way the schema before the move stored it. Ids are
// given so that id order (the order kept) differs from time order.
absl::Status WriteOldHistory(flyte::db::Database& db) {
  return db.Write("seed", [](flyte::db::Tx& tx) -> absl::Status {
    const std::vector<flyte::db::Value> key = {"o", "p", "d", "r1", "a0"};
    auto exec = [&](const std::string& sql, std::vector<flyte::db::Value> extra) -> absl::Status {
      std::vector<flyte::db::Value> params = key;
      params.insert(params.end(), extra.begin(), extra.end());
      return tx.Exec(sql, params).status();
    };
    absl::Status s = exec(
        "INSERT INTO actions (org, project, domain, run_name, name, action_type, phase, attempts, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 1, 4, 2, ?, ?)",
        {Us(0), Us(9)});
    for (int64_t attempt : {1, 2}) {
      if (s.ok()) {
        s = exec("INSERT INTO action_attempts (org, project, domain, run_name, action_name, attempt, phase, "
                 "start_time) VALUES (?, ?, ?, ?, ?, ?, 4, ?)",
                 {attempt, Us(attempt)});
      }
    }
    const std::string transition =
        "INSERT INTO phase_transitions (id, org, project, domain, run_name, action_name, attempt, phase, start_time, "
        "end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    auto add_transition = [&](int64_t id, int64_t attempt, int64_t phase, int64_t start,
                              flyte::db::Value end) -> absl::Status {
      std::vector<flyte::db::Value> params = {id};
      params.insert(params.end(), key.begin(), key.end());
      params.insert(params.end(), {attempt, phase, Us(start), end});
      return tx.Exec(transition, params).status();
    };
    if (s.ok()) s = add_transition(10, 1, 1, 5, Us(6));  // QUEUED: later time, lower id
    if (s.ok()) s = add_transition(11, 1, 4, 3, nullptr);  // RUNNING, still open
    if (s.ok()) s = add_transition(12, 2, 1, 7, nullptr);
    const std::string event =
        "INSERT INTO cluster_events (id, org, project, domain, run_name, action_name, attempt, occurred_at, message, "
        "event_type, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    auto add_event = [&](int64_t id, int64_t attempt, int64_t at, std::string message) -> absl::Status {
      std::vector<flyte::db::Value> params = {id};
      params.insert(params.end(), key.begin(), key.end());
      params.insert(params.end(), {attempt, Us(at), std::move(message), int64_t{2}, "Reason"});
      return tx.Exec(event, params).status();
    };
    if (s.ok()) s = add_event(20, 1, 8, "second \"quoted\" ✓");
    if (s.ok()) s = add_event(21, 1, 4, "first");
    return s;
  });
}

void CheckUpgrade(const flyte::db::DatabaseConfig& config, const std::vector<flyte::db::Migration>& all,
                  int history_version) {
  {
    absl::StatusOr<std::unique_ptr<flyte::db::Database>> db = flyte::db::Open(config);
    REQUIRE(db.ok());
    std::vector<flyte::db::Migration> before;
    for (const flyte::db::Migration& m : all) {
      if (m.version < history_version) before.push_back(m);
    }
    REQUIRE((*db)->Migrate(before).ok());
    absl::Status seeded = WriteOldHistory(**db);
    INFO(seeded.ToString());
    REQUIRE(seeded.ok());
  }
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(config);  // applies the rest
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  absl::StatusOr<ActionWithAttempts> got =
      (*store)->Actions().GetWithAttempts(ActionKey{RunKey{"o", "p", "d", "r1"}, "a0"});
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  REQUIRE(got->attempts.size() == 2);
  const Attempt& first = got->attempts[0];
  REQUIRE(first.transitions.size() == 2);
  CHECK(first.transitions[0].phase == Phase::kQueued);
  CHECK(first.transitions[0].start_time == At(5));
  CHECK(first.transitions[0].end_time == At(6));
  CHECK(first.transitions[1].phase == Phase::kRunning);
  CHECK_FALSE(first.transitions[1].end_time.has_value());
  REQUIRE(first.cluster_events.size() == 2);
  CHECK(first.cluster_events[0].message == "second \"quoted\" ✓");
  CHECK(first.cluster_events[0].occurred_at == At(8));
  CHECK(first.cluster_events[0].type == 2);
  CHECK(first.cluster_events[0].reason == "Reason");
  CHECK(first.cluster_events[1].message == "first");
  const Attempt& second = got->attempts[1];
  REQUIRE(second.transitions.size() == 1);
  CHECK(second.transitions[0].start_time == At(7));
  CHECK(second.cluster_events.empty());

  absl::StatusOr<std::unique_ptr<flyte::db::Database>> db = flyte::db::Open(config);
  REQUIRE(db.ok());
  absl::Status gone = (*db)->Read("probe", [](flyte::db::Tx& tx) { return tx.Query("SELECT 1 FROM phase_transitions").status(); });
  CHECK_FALSE(gone.ok());
}

}  // namespace

TEST_CASE("SQLite: history written before the move into the attempt row survives the upgrade", "[history][sqlite]") {
  flyte::testing::TempSqlite sqlite;
  CheckUpgrade(sqlite.database_config(), SqliteMigrations(), 3);
}

TEST_CASE("PostgreSQL: history written before the move into the attempt row survives the upgrade",
          "[history][postgres]") {
  CheckUpgrade(flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(2), PostgresMigrations(), 4);
}
