// flyte::db against real SQLite files and a throwaway PostgreSQL server ([postgres]).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "flyte/db/database.h"
#include "flyte/db/listener.h"
#include "flyte/db/array_param.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "pg_statistics.h"

using flyte::db::Bytes;
using flyte::db::Database;
using flyte::db::Rows;
using flyte::db::Tx;

namespace {

const std::vector<flyte::db::Migration> kMigrations = {
    {2, "0002_more", "CREATE TABLE t2 (id BIGINT PRIMARY KEY); CREATE INDEX t2_id ON t2(id);"},
    {1, "0001_init", "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data BYTEA);"},
};

std::vector<flyte::db::Migration> SqliteMigrations() {
  auto m = kMigrations;
  m[1].sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB);";
  return m;
}

void Exercise(Database& db) {
  std::atomic<int> hooked{0};
  REQUIRE(db.Write("insert", [](Tx& tx) {
              std::string bin("\0\x01\xff'\\x", 6);
              return tx.Exec("INSERT INTO t(id, name, data) VALUES (?, ?, ?)", {int64_t{1}, "it's ?", Bytes{bin}})
                  .status();
            }).ok());
  Rows rows;
  REQUIRE(db.Read("select", [&](Tx& tx) {
              auto r = tx.Query("SELECT id, name, data, NULL FROM t WHERE id = ?", {int64_t{1}});
              if (!r.ok()) return r.status();
              rows = *r;
              return absl::OkStatus();
            }).ok());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].Int(0) == 1);
  CHECK(rows[0].Str(1) == "it's ?");
  CHECK(rows[0].Str(2) == std::string("\0\x01\xff'\\x", 6));
  CHECK(rows[0].IsNull(3));

  // Unique violation -> kAlreadyExists, and the failed unit leaves nothing behind.
  absl::Status dup = db.Write("dup", [](Tx& tx) {
    auto s = tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{2}, "two"});
    if (!s.ok()) return s.status();
    return tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{1}, "again"}).status();
  });
  CHECK(dup.code() == absl::StatusCode::kAlreadyExists);
  absl::Status aborted = db.Write("abort", [](Tx& tx) {
    auto s = tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{3}, "three"});
    if (!s.ok()) return s.status();
    return absl::AbortedError("caller gave up");
  });
  CHECK(aborted.code() == absl::StatusCode::kAborted);
  int64_t count = -1;
  REQUIRE(db.Read("count", [&](Tx& tx) {
              auto r = tx.Query("SELECT COUNT(*) FROM t");
              if (!r.ok()) return r.status();
              count = (*r)[0].Int(0);
              return absl::OkStatus();
            }).ok());
  CHECK(count == 1);
  // A syntax error is kInternal and carries no SQL text.
  absl::Status bad = db.Read("bad", [](Tx& tx) { return tx.Query("SELEC nonsense").status(); });
  CHECK(bad.code() == absl::StatusCode::kInternal);
  CHECK(bad.message().find("SELEC") == std::string::npos);
  CHECK(db.Ping().ok());
}

}  // namespace

TEST_CASE("sqlite database: queries, errors, migrations", "[db][sqlite]") {
  flyte::testing::TempSqlite file;
  int hooked = 0;
  flyte::db::DatabaseOptions opts;
  opts.query_hook = [&](std::string_view op, double secs) {
    if (op == "insert") ++hooked;
    CHECK(secs >= 0);
  };
  auto db = flyte::db::OpenSqlite(file.config(), opts);
  REQUIRE(db.ok());
  REQUIRE((*db)->Migrate(SqliteMigrations()).ok());
  REQUIRE((*db)->Migrate(SqliteMigrations()).ok());  // idempotent
  Exercise(**db);
  CHECK(hooked == 1);
}

TEST_CASE("sqlite: concurrent migrations of one fresh file", "[db][sqlite]") {
  flyte::testing::TempSqlite file;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = flyte::db::OpenSqlite(file.config());
      if (db.ok() && (*db)->Migrate(SqliteMigrations()).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
}

TEST_CASE("sqlite: the WAL is checkpointed beside the writer and stays bounded", "[db][sqlite]") {
  flyte::testing::TempSqlite file;
  auto db = flyte::db::OpenSqlite(file.config());
  REQUIRE(db.ok());
  REQUIRE((*db)->Write("create", [](Tx& tx) {
                 return tx.Exec("CREATE TABLE w (id INTEGER PRIMARY KEY, data BLOB)").status();
               }).ok());
  auto size = [](const std::string& path) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path, ec);
    return ec ? uintmax_t{0} : n;
  };
  const std::string blob(3000, 'x');
  auto write = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      REQUIRE((*db)->Write("insert", [&](Tx& tx) {
                     return tx.Exec("INSERT INTO w (id, data) VALUES (?, ?)", {int64_t{i}, Bytes{blob}}).status();
                   }).ok());
    }
  };
  // ~2,500 frames: the background checkpointer copies them into the database file (which otherwise stays tiny
  // until the last connection closes).
  write(0, 2500);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (size(file.file()) < 4'000'000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(size(file.file()) >= 4'000'000);
  // Steady writes never let a background checkpoint catch up with the last commit; the WAL must still start
  // over now and then instead of growing with every commit (12,000 more frames = 49 MB unbounded).
  write(2500, 14500);
  CHECK(size(file.file() + "-wal") < 45'000'000);
  int64_t count = 0;
  REQUIRE((*db)->Read("count", [&](Tx& tx) {
                 auto rows = tx.Query("SELECT COUNT(*) FROM w");
                 if (rows.ok()) count = rows->front().Int(0);
                 return rows.status();
               }).ok());
  CHECK(count == 14500);
}

TEST_CASE("postgres database: queries, errors, migrations", "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 4);
  REQUIRE(db.ok());
  REQUIRE((*db)->Migrate(kMigrations).ok());
  REQUIRE((*db)->Migrate(kMigrations).ok());
  Exercise(**db);
  int64_t n = 0;
  REQUIRE((*db)->Read("m", [&](Tx& tx) {
                auto r = tx.Query("SELECT COUNT(*) FROM schema_migrations");
                if (!r.ok()) return r.status();
                n = (*r)[0].Int(0);
                return absl::OkStatus();
              }).ok());
  CHECK(n == 2);
}

namespace {
// SELECT COUNT(*) of table t, in a Read.
int64_t RowsOfT(Database& d) {
  int64_t count = -1;
  REQUIRE(d.Read("count", [&](Tx& tx) {
             auto r = tx.Query("SELECT COUNT(*) FROM t");
             if (r.ok()) count = (*r)[0].Int(0);
             return r.status();
           }).ok());
  return count;
}
}  // namespace

TEST_CASE("postgres: WriteGenericPlans commits or rolls back like Write, with generic plans for its own statements only",
          "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 1);  // one connection: the plain Write below reuses it
  REQUIRE(db.ok());
  REQUIRE((*db)->Migrate(kMigrations).ok());
  auto plan_cache_mode = [](Tx& tx, std::string& mode) {
    auto r = tx.Query("SELECT current_setting('plan_cache_mode')");
    if (r.ok()) mode = (*r)[0].Str(0);
    return r.status();
  };
  std::string mode;
  REQUIRE((*db)->WriteGenericPlans("generic", [&](Tx& tx) {
                if (absl::Status s = plan_cache_mode(tx, mode); !s.ok()) return s;
                return tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{1}, "kept"}).status();
              }).ok());
  CHECK(mode == "force_generic_plan");
  CHECK((*db)->WriteGenericPlans("generic", [](Tx& tx) {
                auto s = tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{2}, "rolled back"});
                if (!s.ok()) return s.status();
                return absl::AbortedError("caller gave up");
              }).code() == absl::StatusCode::kAborted);
  REQUIRE((*db)->Write("plain", [&](Tx& tx) { return plan_cache_mode(tx, mode); }).ok());
  CHECK(mode == "auto");
  CHECK(RowsOfT(**db) == 1);
}

TEST_CASE("postgres: Read is one read-only transaction: writes are refused, and the connection is fine after",
          "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 1);  // one connection: every unit below reuses it
  REQUIRE(db.ok());
  REQUIRE((*db)->Migrate(kMigrations).ok());
  std::string read_only, isolation;
  int64_t started_first = -1, started_second = -2;
  REQUIRE((*db)->Read("settings", [&](Tx& tx) -> absl::Status {
                auto r = tx.Query("SELECT current_setting('transaction_read_only'), "
                                  "current_setting('transaction_isolation'), txid_current_if_assigned() IS NULL, "
                                  "pg_backend_pid()");
                if (!r.ok()) return r.status();
                read_only = (*r)[0].Str(0);
                isolation = (*r)[0].Str(1);
                // Two statements of one Read share its transaction: the statement timestamps differ, the
                // transaction's start does not.
                auto first = tx.Query("SELECT (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint");
                auto second = tx.Query("SELECT (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint");
                if (!first.ok()) return first.status();
                if (!second.ok()) return second.status();
                started_first = (*first)[0].Int(0);
                started_second = (*second)[0].Int(0);
                return absl::OkStatus();
              }).ok());
  CHECK(read_only == "on");
  CHECK(isolation == "read committed");
  CHECK(started_first == started_second);
  absl::Status refused = (*db)->Read("write", [](Tx& tx) {
    return tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{1}, "no"}).status();
  });
  CHECK_FALSE(refused.ok());  // and nothing was written (the count below)
  CHECK(RowsOfT(**db) == 0);
  REQUIRE((*db)->Write("write", [](Tx& tx) {
                return tx.Exec("INSERT INTO t(id, name) VALUES (?, ?)", {int64_t{1}, "yes"}).status();
              }).ok());
}

TEST_CASE("postgres: array literals carry any text, bytes, numbers and NULLs through unnest, in order",
          "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 1);
  REQUIRE(db.ok());
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  const std::vector<std::string> texts = {"", "plain", "a,b", "{braces}", "\"quoted\"", "back\\slash", "NULL",
                                          "  spaced  ", "new\nline", "ünïcode ✓", "'single'"};
  flyte::db::PgArray text, number, bytes;
  for (size_t i = 0; i < texts.size(); ++i) {
    text.Add(texts[i]);
    number.Add(i % 3 == 0 ? std::optional<int64_t>() : std::optional<int64_t>(int64_t{1} << (i * 5)));
    bytes.Add(absl::BytesToHexString(i == 0 ? every_byte : texts[i]));
  }
  text.AddNull();
  number.Add(int64_t{-9223372036854775807} - 1);
  bytes.Add(absl::BytesToHexString(""));
  REQUIRE(text.size() == texts.size() + 1);
  Rows rows;
  REQUIRE((*db)->Read("unnest", [&](Tx& tx) {
                auto r = tx.Query(
                    "SELECT t, n, decode(b, 'hex') FROM unnest(?::text[], ?::bigint[], ?::text[]) WITH ORDINALITY "
                    "AS u(t, n, b, i) ORDER BY i",
                    {text.ToValue(), number.ToValue(), bytes.ToValue()});
                if (!r.ok()) return r.status();
                rows = std::move(*r);
                return absl::OkStatus();
              }).ok());
  REQUIRE(rows.size() == texts.size() + 1);
  for (size_t i = 0; i < texts.size(); ++i) {
    CHECK(rows[i].Str(0) == texts[i]);
    CHECK(rows[i].IsNull(1) == (i % 3 == 0));
    if (i % 3 != 0) CHECK(rows[i].Int(1) == (int64_t{1} << (i * 5)));
    CHECK(rows[i].Str(2) == (i == 0 ? every_byte : texts[i]));
  }
  CHECK(rows.back().IsNull(0));
  CHECK(rows.back().Int(1) == int64_t{-9223372036854775807} - 1);
  CHECK(rows.back().Str(2).empty());
}

TEST_CASE("postgres: concurrent migrations of one fresh database", "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = flyte::db::OpenPostgres(cfg, 2);
      if (db.ok() && (*db)->Migrate(kMigrations).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
}

TEST_CASE("postgres: unreachable server is kUnavailable", "[db][postgres]") {
  flyte::db::PostgresConfig cfg;
  cfg.host = "/nonexistent-socket-dir";
  cfg.port = 1;
  cfg.dbname = "x";
  auto db = flyte::db::OpenPostgres(cfg, 2);
  CHECK(db.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("postgres: LISTEN helper delivers notifications", "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 2);
  REQUIRE(db.ok());
  std::mutex mu;
  std::vector<std::string> got;
  int sender = 0;
  auto listener = flyte::db::PgListener::Start(cfg, "chan", {[&](std::string_view p, int pid) {
                                                               std::lock_guard<std::mutex> l(mu);
                                                               got.emplace_back(p);
                                                               sender = pid;
                                                             },
                                                             nullptr});
  REQUIRE(listener.ok());
  REQUIRE((*db)->Write("n", [](Tx& tx) { return tx.Query("SELECT pg_notify(?, ?)", {"chan", "hello"}).status(); })
              .ok());
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!got.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "hello");
  // The sender is known: the pool that wrote recognises its own session, another pool (a replica) does not.
  CHECK((*db)->IsOwnSession(sender));
  auto other = flyte::db::OpenPostgres(cfg, 2);
  REQUIRE(other.ok());
  CHECK_FALSE((*other)->IsOwnSession(sender));
}

TEST_CASE("postgres: a young table that grew is analyzed, so key lookups use the primary key", "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  auto db = flyte::db::OpenPostgres(cfg, 1);  // one connection: the one that prepared `lookup`
  REQUIRE(db.ok());
  Database& d = **db;
  REQUIRE(d.Write("setup", [](Tx& tx) {
             // The shape of runs-service's actions table: a scoped key and an index sharing all but its last column.
             auto made = tx.Exec("CREATE TABLE items (org TEXT NOT NULL, run TEXT NOT NULL, name TEXT NOT NULL, "
                                 "parent TEXT, PRIMARY KEY (org, run, name))");
             if (!made.ok()) return made.status();
             return tx.Exec("CREATE INDEX items_by_parent ON items (org, run, parent)").status();
           }).ok());
  // A statement prepared while the table was tiny: after five runs PostgreSQL caches a generic plan for it, which
  // with no statistics prefers the narrow index, and keeps it as the table grows (unless ANALYZE invalidates it).
  REQUIRE(d.Write("prepare", [](Tx& tx) -> absl::Status {
             auto p = tx.Exec("PREPARE lookup(text, text, text) AS SELECT parent FROM items WHERE org = $1 AND run = $2 AND name = $3");
             if (!p.ok()) return p.status();
             for (int i = 0; i < 10; ++i) {
               auto r = tx.Query("EXECUTE lookup('o', 'r', 'c1')");
               if (!r.ok()) return r.status();
             }
             return absl::OkStatus();
           }).ok());
  REQUIRE(d.Write("fill", [](Tx& tx) -> absl::Status {
             for (int i = 0; i < 1000; ++i) {
               auto n = tx.Exec("INSERT INTO items VALUES ('o', 'r', ?, 'a0')", {std::string("c") + std::to_string(i)});
               if (!n.ok()) return n.status();
             }
             return absl::OkStatus();
           }).ok());
  // Nobody runs ANALYZE here and autovacuum waits a minute: the database's own keeper must do it.
  std::string plan;
  for (int i = 0; i < 100; ++i) {
    std::optional<int64_t> analyzed;
    REQUIRE(d.Read("check", [&](Tx& tx) -> absl::Status {
               auto rows = tx.Query(
                   "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'items' AND "
                   "(last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)");
               if (!rows.ok()) return rows.status();
               analyzed = (*rows)[0].Int(0);
               return absl::OkStatus();
             }).ok());
    if (analyzed == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(d.Read("plan", [&](Tx& tx) -> absl::Status {
             auto rows = tx.Query("EXPLAIN EXECUTE lookup('o', 'r', 'c500')");
             if (!rows.ok()) return rows.status();
             for (const auto& r : *rows) plan += r.Str(0) + "\n";
             return absl::OkStatus();
           }).ok());
  INFO(plan);
  CHECK(plan.find("items_pkey") != std::string::npos);
}

namespace {
// pg_class.reltuples of `table`: -1 until its first ANALYZE (or VACUUM), then the row count it found.
int64_t RelTuples(Database& d, const std::string& table) {
  int64_t n = -2;
  REQUIRE(d.Read("reltuples", [&](Tx& tx) -> absl::Status {
             auto rows = tx.Query("SELECT reltuples::bigint FROM pg_class WHERE relname = ?", {table});
             if (!rows.ok()) return rows.status();
             n = (*rows)[0].Int(0);
             return absl::OkStatus();
           }).ok());
  return n;
}
}  // namespace

TEST_CASE("postgres: a table that doubled by counted inserts is analyzed at once, not at the next round",
          "[db][postgres]") {
  auto cfg = flyte::testing::ThrowawayPostgres::Instance().CreateDatabase();
  flyte::db::DatabaseOptions options;
  options.keep_planner_statistics = false;  // only the keeper below, whose periodic round is an hour away
  auto db = flyte::db::OpenPostgres(cfg, 2, options);
  REQUIRE(db.ok());
  Database& d = **db;
  REQUIRE(d.Write("setup", [](Tx& tx) {
             // No autovacuum: nothing but the keeper may analyze it.
             return tx.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, run TEXT NOT NULL) WITH (autovacuum_enabled = false)")
                 .status();
           }).ok());
  flyte::db::internal::PlannerStatistics keeper(d, std::chrono::hours(1), /*min_changes=*/200);
  auto fill = [&](int from, int to) {
    REQUIRE(d.Write("fill", [&](Tx& tx) {
               return tx.Exec("insert into items SELECT g, 'r' FROM generate_series(?::int, ?::int) g",
                              {int64_t{from}, int64_t{to}})
                   .status();
             }).ok());
    keeper.Inserted("items", to - from + 1);
  };
  fill(1, 150);
  CHECK(RelTuples(d, "items") == -1);  // below min_changes: nothing to do yet
  fill(151, 300);
  int64_t seen = -1;
  for (int i = 0; i < 100 && seen < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = RelTuples(d, "items");
  }
  CHECK(seen == 300);
  // Counted again only once the table doubles: 200 more rows are not enough, 300 are.
  fill(301, 500);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(RelTuples(d, "items") == 300);
  fill(501, 600);
  seen = 300;
  for (int i = 0; i < 100 && seen < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = RelTuples(d, "items");
  }
  CHECK(seen == 600);
}
