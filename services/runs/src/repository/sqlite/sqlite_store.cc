#include "repository/sqlite/sqlite_store.h"

namespace flyte::runs {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const db::SqliteConfig& config,
                                                               const db::DatabaseOptions& options) {
  absl::StatusOr<std::unique_ptr<db::Database>> database = db::OpenSqlite(config, options);
  if (!database.ok()) return database.status();
  return std::make_unique<SqliteStore>(std::move(*database));
}

}  // namespace flyte::runs
