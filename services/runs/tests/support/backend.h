#pragma once
// A runs Store on a fresh database of the chosen backend, for the conformance suites: "sqlite" (a temp file) or
// "postgres" (the throwaway server, a fresh database per instance).
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "flyte/db/config.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/store_factory.h"

namespace flyte::runs::test {

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
  // Another Store on the same database (a second replica, or the same one after a restart).
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
