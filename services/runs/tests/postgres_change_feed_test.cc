// Cross-replica change delivery on PostgreSQL (repository/postgres/pg_change_feed.h): every committed change
// reaches the other replicas, including when the writer dies between its commit and its NOTIFY, and including a
// transaction that commits after a younger one was already read.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "flyte/db/array_param.h"
#include "flyte/db/database.h"
#include "repository/sql_store.h"
#include "repository/store_factory.h"
#include "support/backend.h"
#include "support/builders.h"
#include "support/recorder.h"

using namespace flyte::runs;
using namespace std::chrono_literals;
using flyte::runs::test::Backend;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;
using flyte::runs::test::Recorder;
using flyte::runs::test::WaitFor;
using Code = absl::StatusCode;

namespace {

std::unique_ptr<Store> OpenReplica(const flyte::db::DatabaseConfig& config, const StoreOptions& options) {
  absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(config, options);
  REQUIRE(s.ok());
  return std::move(*s);
}

}  // namespace

TEST_CASE("postgres: a change whose writer died between its commit and its NOTIFY reaches the other replicas",
          "[repository][postgres]") {
  Recorder reader_heard;  // outlives the stores
  Backend b("postgres");  // b.store: the reader, which reads the change log every second (the default)
  reader_heard.Attach(b.actions());
  StoreOptions dies_after_commit;
  dies_after_commit.announce_changes = false;  // every commit of this writer is followed by no NOTIFY at all
  std::unique_ptr<Store> writer = OpenReplica(b.config, dies_after_commit);

  const auto start = std::chrono::steady_clock::now();
  REQUIRE(writer->Actions().CreateRun(MakeRun("r1")).ok());                                       // CreateRun
  Action child = MakeChild("r1", "c1", "a0");
  REQUIRE(writer->Actions()
              .CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", "req", 0})
              .ok());                                                                              // EnqueueAction
  REQUIRE(writer->Actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kRunning, 3)).ok());       // a state report
  writer.reset();  // the writer is gone
  // Bounded: one catch-up interval (1 s) after the commit, plus a read; 3 s leaves room for a loaded machine.
  CHECK(WaitFor([&] { return reader_heard.Has("a0", 1) && reader_heard.Has("c1", 1) && reader_heard.Has("a0", 2); },
                3s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  // Each exactly once, although later reads of the log cover the same rows while the horizon catches up.
  std::this_thread::sleep_for(1500ms);
  CHECK(reader_heard.Count("a0", 1) == 1);
  CHECK(reader_heard.Count("c1", 1) == 1);
  CHECK(reader_heard.Count("a0", 2) == 1);
}

TEST_CASE("postgres: a NOTIFY after the commit wakes the other replicas at once", "[repository][postgres]") {
  Recorder reader_heard;
  Backend b("postgres");
  StoreOptions slow_catch_up;
  slow_catch_up.change_catch_up_interval = std::chrono::minutes(10);  // only a NOTIFY can wake this reader in time
  std::unique_ptr<Store> reader = OpenReplica(b.config, slow_catch_up);
  reader_heard.Attach(reader->Actions());
  for (int i = 0; i < 20; ++i) REQUIRE(b.actions().CreateRun(MakeRun("r" + std::to_string(i))).ok());
  CHECK(WaitFor([&] { return reader_heard.size() == 20; }, 2s));
  std::this_thread::sleep_for(200ms);
  CHECK(reader_heard.size() == 20);  // coalesced NOTIFYs, each change still delivered once
}

TEST_CASE("postgres: a transaction that commits after a younger one was read is still delivered",
          "[repository][postgres]") {
  Recorder reader_heard;
  Backend b("postgres");
  StoreOptions fast;
  fast.change_catch_up_interval = 50ms;
  std::unique_ptr<Store> reader = OpenReplica(b.config, fast);
  reader_heard.Attach(reader->Actions());
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(WaitFor([&] { return reader_heard.Has("a0", 1); }));

  // An older transaction appends to the log (as a writer's would) and stays open.
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> raw = flyte::db::OpenPostgres(*b.config.postgres, 2);
  REQUIRE(raw.ok());
  std::promise<void> appended, release;
  std::future<void> released = release.get_future();
  std::thread old_tx([&] {
    (void)(*raw)->Write("late", [&](flyte::db::Tx& tx) -> absl::Status {
      flyte::db::PgArray payloads;
      payloads.Add(EncodeActionChange(ActionChange{KeyOf("r1", "late"), std::string("a0"), 1, nullptr}));
      absl::Status s = tx.Exec("INSERT INTO action_change_log (origin, payloads) VALUES ('another', ?::text[])",
                               {payloads.ToValue()})
                           .status();
      appended.set_value();
      released.wait();
      return s;
    });
  });
  appended.get_future().wait();
  // A younger transaction commits and is read (several times: the reader reads every 50 ms)...
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kRunning, 3)).ok());
  REQUIRE(WaitFor([&] { return reader_heard.Has("a0", 2); }));
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(reader_heard.Has("late", 1));
  // ...then the older one commits: its change is delivered, once, and the younger one's was not repeated.
  release.set_value();
  old_tx.join();
  CHECK(WaitFor([&] { return reader_heard.Has("late", 1); }, 2s));
  std::this_thread::sleep_for(300ms);
  CHECK(reader_heard.Count("late", 1) == 1);
  CHECK(reader_heard.Count("a0", 2) == 1);
}

TEST_CASE("postgres: a change an older replica NOTIFYs with its payload (no change log) is delivered",
          "[repository][postgres]") {
  Recorder reader_heard;
  Backend b("postgres");
  reader_heard.Attach(b.actions());
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> older = flyte::db::OpenPostgres(*b.config.postgres, 1);
  REQUIRE(older.ok());
  const std::string payload = EncodeActionChange(ActionChange{KeyOf("r1"), std::nullopt, 3, nullptr});
  REQUIRE((*older)
              ->Write("notify",
                      [&](flyte::db::Tx& tx) {
                        return tx.Query("SELECT pg_notify(?, ?)", {std::string(kActionChangeChannel), payload}).status();
                      })
              .ok());
  CHECK(WaitFor([&] { return reader_heard.Has("a0", 3); }, 2s));
}

namespace {

// The change-log rows written so far, oldest first: each its changes' keys and versions, e.g. "c1@2 c2@2".
std::vector<std::string> ChangeLogRows(const flyte::db::DatabaseConfig& config) {
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> db = flyte::db::OpenPostgres(*config.postgres, 1);
  REQUIRE(db.ok());
  std::vector<std::string> out;
  REQUIRE((*db)->Read("log", [&](flyte::db::Tx& tx) -> absl::Status {
                absl::StatusOr<flyte::db::Rows> rows =
                    tx.Query("SELECT l.xid::text, u.p FROM action_change_log l, unnest(l.payloads) WITH ORDINALITY "
                             "AS u(p, i) ORDER BY l.xid, u.i");
                if (!rows.ok()) return rows.status();
                std::string xid;
                for (const flyte::db::Row& r : *rows) {
                  absl::StatusOr<ActionChange> c = DecodeActionChange(r.Str(1));
                  if (!c.ok()) return c.status();
                  const std::string change = c->key.name + "@" + std::to_string(c->version);
                  if (out.empty() || r.Str(0) != xid) {
                    out.push_back(change);
                  } else {
                    out.back() += " " + change;
                  }
                  xid = r.Str(0);
                }
                return absl::OkStatus();
              }).ok());
  return out;
}

}  // namespace

TEST_CASE("postgres: a state-report batch logs its applied changes in its one change-log row; a refused one none",
          "[repository][postgres]") {
  Backend b("postgres");
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  for (const char* name : {"c1", "c2"}) REQUIRE(b.actions().CreateAction(MakeChild("r1", name, "a0")).ok());
  const std::vector<std::string> before = ChangeLogRows(b.config);
  REQUIRE(before.size() == 3);

  ActionKey missing = KeyOf("r1", "nope");
  std::vector<absl::StatusOr<Action>> out = b.actions().ApplyEvents({
      {KeyOf("r1", "c1"), MakeEvent(1, Phase::kRunning, 3)},
      {missing, MakeEvent(1, Phase::kRunning, 4)},                     // refused: no such action
      {KeyOf("r1", "c2"), MakeEvent(1, Phase::kSucceeded, 5)},
      {KeyOf("r1", "c2"), MakeEvent(1, Phase::kRunning, 6)},           // refused: after SUCCEEDED
      {KeyOf("r1", "c1"), MakeEvent(1, Phase::kSucceeded, 7)},
  });
  REQUIRE(out.size() == 5);
  CHECK(out[0].ok());
  CHECK(out[1].status().code() == absl::StatusCode::kNotFound);
  CHECK(out[2].ok());
  CHECK(out[3].status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(out[4].ok());
  std::vector<std::string> after = ChangeLogRows(b.config);
  REQUIRE(after.size() == 4);
  CHECK(after.back() == "c1@2 c2@2 c1@3");

  // A batch refused whole writes nothing: no rows changed, no change-log row.
  out = b.actions().ApplyEvents({{missing, MakeEvent(1, Phase::kRunning, 8)},
                                 {KeyOf("r1", "c2"), MakeEvent(1, Phase::kRunning, 9)}});
  CHECK(out[0].status().code() == absl::StatusCode::kNotFound);
  CHECK(out[1].status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ChangeLogRows(b.config).size() == 4);
  absl::StatusOr<ActionWithAttempts> c2 = b.actions().GetWithAttempts(KeyOf("r1", "c2"));
  REQUIRE(c2.ok());
  CHECK(c2->action.phase == Phase::kSucceeded);
  CHECK(c2->action.version == 2);
  REQUIRE(c2->attempts.size() == 1);
  CHECK(c2->attempts[0].phase == Phase::kSucceeded);
}

// ---- replicas hearing each other (moved from repository_conformance_test.cc) ----------------------------------

TEST_CASE("postgres: two stores on one database hear each other's changes", "[repository][postgres]") {
  Recorder mine, theirs;  // outlive the stores
  Backend b("postgres");
  std::unique_ptr<Store> other = b.Open();
  mine.Attach(b.actions());
  theirs.Attach(other->Actions());
  REQUIRE(other->Actions().CreateRun(MakeRun("r1")).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 1) && theirs.Has("a0", 1); }));
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kRunning, 3)).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 2) && theirs.Has("a0", 2); }));
  // Several changes in one transaction (a batched report) are announced together, every one of them.
  std::vector<KeyedEvent> batch;
  for (const char* name : {"c1", "c2", "c3"}) {
    REQUIRE(b.actions().CreateAction(MakeChild("r1", name, "a0")).ok());
    batch.push_back(KeyedEvent{KeyOf("r1", name), MakeEvent(1, Phase::kInitializing, 4)});
  }
  for (const absl::StatusOr<Action>& applied : b.actions().ApplyEvents(batch)) REQUIRE(applied.ok());
  CHECK(WaitFor([&] { return theirs.Has("c1", 2) && theirs.Has("c2", 2) && theirs.Has("c3", 2); }));
  CHECK(WaitFor([&] { return mine.Has("c1", 2) && mine.Has("c2", 2) && mine.Has("c3", 2); }));
  // A child created with its queue command (one statement of its own) is announced to both, with its parent, and
  // once to the replica that created it (which skips its own entries in the change log).
  Action child = MakeChild("r1", "c4", "a0");
  REQUIRE(b.actions()
              .CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", "req", 0})
              .ok());
  CHECK(WaitFor([&] { return theirs.Has("c4", 1) && mine.Has("c4", 1); }));
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1", "c4"), MakeEvent(1, Phase::kInitializing, 5)).ok());
  CHECK(WaitFor([&] { return mine.Has("c4", 2); }));  // later changes arrive after it
  std::lock_guard<std::mutex> l(mine.mu);
  CHECK(std::count_if(mine.seen.begin(), mine.seen.end(), [](const ActionChange& c) {
          return c.key.name == "c4" && c.version == 1 && c.parent == std::optional<std::string>("a0");
        }) == 1);
}

TEST_CASE("postgres: a replica whose LISTEN connection dropped still gets every change",
          "[repository][postgres]") {
  using namespace std::chrono_literals;
  Recorder mine;  // outlives the stores
  Backend b("postgres");                    // the replica that loses its LISTEN connection
  std::unique_ptr<Store> other = b.Open();  // the replica that writes meanwhile
  mine.Attach(b.actions());
  REQUIRE(other->Actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(WaitFor([&] { return mine.Has("a0", 1); }));

  flyte::db::PostgresConfig admin_config = *b.config.postgres;
  admin_config.dbname = "postgres";
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> admin = flyte::db::OpenPostgres(admin_config, 1);
  REQUIRE(admin.ok());
  auto sql = [&](const std::string& q) {
    REQUIRE((*admin)->Write("admin", [&](flyte::db::Tx& tx) { return tx.Query(q).status(); }).ok());
  };
  const std::string db = b.config.postgres->dbname;
  // The listeners' connections are cut and cannot come back yet; pooled connections already open keep working.
  sql("ALTER DATABASE \"" + db + "\" WITH ALLOW_CONNECTIONS false");
  sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db +
      "' AND application_name LIKE 'flyte-listen %'");
  std::this_thread::sleep_for(300ms);
  ActionEvent running = MakeEvent(1, Phase::kRunning, 0);
  running.occurred_at = flyte::common::Clock::System().Now();
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1"), running).ok());
  // Its NOTIFY reaches no listener of this replica, but the replica reads the change log on a timer as well.
  CHECK(WaitFor([&] { return mine.Has("a0", 2); }, 5s));

  sql("ALTER DATABASE \"" + db + "\" WITH ALLOW_CONNECTIONS true");
  ActionEvent succeeded = MakeEvent(1, Phase::kSucceeded, 0);
  succeeded.occurred_at = flyte::common::Clock::System().Now();
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1"), succeeded).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 3); }, 15s));
  CHECK(mine.Count("a0", 2) == 1);
}

TEST_CASE("postgres: database down is kUnavailable, and the store recovers", "[repository][postgres]") {
  Recorder rec;
  Backend b("postgres");
  rec.Attach(b.actions());
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  auto& pg = flyte::testing::ThrowawayPostgres::Instance();
  pg.Stop();
  CHECK(b.actions().Get(KeyOf("r1")).status().code() == Code::kUnavailable);
  CHECK(b.actions().CreateRun(MakeRun("r2")).code() == Code::kUnavailable);
  CHECK(b.store->Ping().code() == Code::kUnavailable);
  CHECK(OpenStore(b.config).status().code() == Code::kUnavailable);
  pg.Start();
  CHECK(b.store->Ping().ok());
  CHECK(b.actions().Get(KeyOf("r1")).ok());
  // The LISTEN loop reconnects by itself (backoff up to 5 s).
  int n = 100;
  CHECK(WaitFor(
      [&] {
        (void)b.actions().CreateRun(MakeRun("r" + std::to_string(n++)));
        std::lock_guard<std::mutex> l(rec.mu);
        return rec.seen.size() >= 2;
      },
      std::chrono::seconds(15)));
}
