#include "repository/backend_factory.h"

#include <vector>

#include "flyte/db/migration.h"
#include "repository/sql_queue_backend.h"

namespace flyte::queue {

// Embedded from migrations/{sqlite,postgres} by flyte_embed_migrations.
const std::vector<db::Migration>& SqliteMigrations();
const std::vector<db::Migration>& PostgresMigrations();

absl::StatusOr<std::unique_ptr<QueueBackend>> OpenQueueBackend(const db::DatabaseConfig& config,
                                                               const BackendOptions& options) {
  db::DatabaseOptions db_options;
  db_options.query_hook = options.query_hook;
  db_options.sqlite_readers = options.sqlite_readers;
  // Its own table: runs-service numbers its migrations from 1 too, and both may share one database.
  db_options.migrations_table = "queue_schema_migrations";
  absl::StatusOr<std::unique_ptr<db::Database>> database = db::Open(config, db_options);
  if (!database.ok()) return database.status();
  const bool pg = (*database)->dialect() == db::Dialect::kPostgres;
  absl::Status migrated = (*database)->Migrate(pg ? PostgresMigrations() : SqliteMigrations());
  if (!migrated.ok()) return migrated;
  return std::unique_ptr<QueueBackend>(std::make_unique<SqlQueueBackend>(std::move(*database)));
}

}  // namespace flyte::queue
