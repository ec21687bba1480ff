#pragma once
// Opens the configured backend (PostgreSQL when `database.postgres` is set, SQLite otherwise), applies the
// embedded migrations and returns a ready Store. kUnavailable if the database cannot be reached; kInternal if a
// migration fails.
#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/database.h"
#include "repository/action_repository.h"

namespace flyte::runs {

struct StoreOptions {
  db::QueryHook query_hook;  // optional: called per unit of work with (operation, seconds)
  int sqlite_readers = 4;
  bool run_migrations = true;
  // PostgreSQL: follow the change feed (LISTEN, and read the change log) so SetChangeListener fires for every
  // replica's writes.
  bool listen_for_changes = true;
  // PostgreSQL: how often a replica reads the change log with no NOTIFY to wake it, i.e. how late a change whose
  // writer died between its commit and its NOTIFY can reach it (PgChangeFeed).
  std::chrono::milliseconds change_catch_up_interval{1000};
  // PostgreSQL: false only in tests that play a writer dying right after each commit (it never NOTIFYs).
  bool announce_changes = true;
};

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const db::DatabaseConfig& config, const StoreOptions& options = {});

}  // namespace flyte::runs
