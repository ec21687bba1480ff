#pragma once
// A runs store on a fresh database of either backend, for the conformance suites: SQLite (a temp file) or
// PostgreSQL (the throwaway server, a fresh database per case).
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "flyte/db/database.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/store_factory.h"

namespace flyte::runs::test {

// A store on a fresh database of the chosen backend ("sqlite" or "postgres").
struct Backend {
  explicit Backend(const std::string& kind) : postgres(kind == "postgres") {
    if (postgres) {
      config = flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(8);
    } else {
      sqlite.emplace();
      config = sqlite->database_config();
    }
    store = Open();
  }
  std::unique_ptr<Store> Open() {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(config);
    REQUIRE(s.ok());
    return std::move(*s);
  }
  ActionRepository& actions() { return store->Actions(); }
  TaskRepository& tasks() { return store->Tasks(); }

  bool postgres;
  std::optional<flyte::testing::TempSqlite> sqlite;
  flyte::db::DatabaseConfig config;
  std::unique_ptr<Store> store;
};

}  // namespace flyte::runs::test
