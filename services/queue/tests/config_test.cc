// queue-service configuration: defaults, every key, strictness.
#include <catch2/catch.hpp>

#include "config.h"

using namespace flyte::queue;
using std::chrono::milliseconds;

TEST_CASE("no config means working defaults", "[config][unit]") {
  auto cfg = LoadConfig("");
  REQUIRE(cfg.ok());
  CHECK(cfg->server.host == "0.0.0.0");
  CHECK(cfg->server.port == 8089);
  CHECK(cfg->lease_duration == milliseconds(15000));
  CHECK(cfg->max_wait_ms == 30000);
  REQUIRE(cfg->database.sqlite);
  CHECK(cfg->database.sqlite->file == "./queue.db");
  CHECK_FALSE(cfg->database.postgres);
  auto empty = ParseConfig("");
  REQUIRE(empty.ok());
  CHECK(empty->database.sqlite->file == "./queue.db");
}

TEST_CASE("every key is read", "[config][unit]") {
  auto cfg = ParseConfig(R"(
queue:
  server: {host: 127.0.0.1, port: 9999}
  leaseDuration: 30s
  maxWaitMs: 5000
  pollInterval: 250ms
  doneRetention: 1h
  maintenanceInterval: 2s
  workerThreads: 3
  maxWaitingAcquires: 7
  maxQueuedRequests: 50
  maxMessageBytes: 2048
database:
  sqlite: {busyTimeout: 1s}
logger: {level: 5}
)");
  REQUIRE(cfg.ok());
  CHECK(cfg->server.host == "127.0.0.1");
  CHECK(cfg->server.port == 9999);
  CHECK(cfg->lease_duration == milliseconds(30000));
  CHECK(cfg->max_wait_ms == 5000);
  CHECK(cfg->poll_interval == milliseconds(250));
  CHECK(cfg->done_retention == milliseconds(3600000));
  CHECK(cfg->maintenance_interval == milliseconds(2000));
  CHECK(cfg->worker_threads == 3);
  CHECK(cfg->max_waiting_acquires == 7);
  CHECK(cfg->max_queued_requests == 50);
  CHECK(cfg->max_message_bytes == 2048);
  CHECK(cfg->database.sqlite->file == "./queue.db");  // our default survives a partial sqlite section
  CHECK(cfg->database.sqlite->busy_timeout == milliseconds(1000));
  CHECK(cfg->logger.level == 5);
}

TEST_CASE("postgres database section replaces the sqlite default", "[config][unit]") {
  auto cfg = ParseConfig("database:\n  postgres: {host: db, port: 5433, dbname: q, username: u, password: x}\n");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->database.postgres);
  CHECK(cfg->database.postgres->dbname == "q");
  CHECK_FALSE(cfg->database.sqlite);
}

TEST_CASE("unknown keys and bad values are all reported", "[config][unit]") {
  auto cfg = ParseConfig(R"(
queue:
  server: {port: abc}
  leaseDuration: 10ms
  maxWaitMs: -1
  leaseDurationz: 5s
bogus: 1
)");
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string msg(cfg.status().message());
  CHECK_THAT(msg, Catch::Contains("queue.server.port"));
  CHECK_THAT(msg, Catch::Contains("queue.leaseDuration"));
  CHECK_THAT(msg, Catch::Contains("queue.maxWaitMs"));
  CHECK_THAT(msg, Catch::Contains("queue.leaseDurationz"));
  CHECK_THAT(msg, Catch::Contains("bogus"));
  CHECK(LoadConfig("/nonexistent/queue.yaml").status().code() == absl::StatusCode::kNotFound);
}
