// The enqueue/abort cases every ActionQueue passes (action_queue_cases.h), against a fresh SQLite file and a
// fresh database on the throwaway PostgreSQL server. The Kubernetes backend runs the same cases in
// kubernetes_action_queue_test.cc.
#include <memory>

#include <catch2/catch.hpp>

#include "action_queue_cases.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/backend_factory.h"

using namespace flyte::queue;

namespace {

struct Sql {
  explicit Sql(const std::string& kind) {
    flyte::db::DatabaseConfig config;
    if (kind == "postgres") {
      config = flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(4);
    } else {
      sqlite = std::make_unique<flyte::testing::TempSqlite>();
      config = sqlite->database_config();
    }
    auto opened = OpenQueueBackend(config);
    REQUIRE(opened.ok());
    backend = std::move(*opened);
  }
  std::unique_ptr<flyte::testing::TempSqlite> sqlite;
  std::unique_ptr<QueueBackend> backend;
};

}  // namespace

TEST_CASE("action queue: enqueue is idempotent", "[repository][sqlite][postgres]") {
  Sql q(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  cases::EnqueueIsIdempotent(*q.backend);
}

TEST_CASE("action queue: a batch enqueue answers each entry", "[repository][sqlite][postgres]") {
  Sql q(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  cases::BatchEnqueueAnswersEachEntry(*q.backend);
}

TEST_CASE("action queue: abort action covers its descendants only", "[repository][sqlite][postgres]") {
  Sql q(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  cases::AbortActionCoversDescendantsOnly(*q.backend);
}

TEST_CASE("action queue: abort run covers that run only", "[repository][sqlite][postgres]") {
  Sql q(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  cases::AbortRunCoversTheRunOnly(*q.backend);
}

TEST_CASE("action queue: depth counts ready entries", "[repository][sqlite][postgres]") {
  Sql q(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  cases::DepthCountsReadyEntries(*q.backend);
}
