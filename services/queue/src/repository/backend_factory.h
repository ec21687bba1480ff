#pragma once
// Opens the configured database (PostgreSQL when `database.postgres` is set, SQLite otherwise), applies the
// embedded migrations and returns a ready QueueBackend. kUnavailable if the database cannot be reached;
// kInternal if a migration fails.
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/database.h"
#include "repository/queue_backend.h"

namespace flyte::queue {

struct BackendOptions {
  db::QueryHook query_hook;  // optional: called per unit of work with (operation, seconds)
  int sqlite_readers = 2;
};

absl::StatusOr<std::unique_ptr<QueueBackend>> OpenQueueBackend(const db::DatabaseConfig& config,
                                                               const BackendOptions& options = {});

}  // namespace flyte::queue
