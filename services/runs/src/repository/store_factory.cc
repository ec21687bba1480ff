#include "repository/store_factory.h"

#include "repository/postgres/postgres_store.h"
#include "repository/sqlite/sqlite_store.h"

namespace flyte::runs {

// Defined by the build from migrations/<dialect>/*.sql.
const std::vector<db::Migration>& SqliteMigrations();
const std::vector<db::Migration>& PostgresMigrations();

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const db::DatabaseConfig& config, const StoreOptions& options) {
  db::DatabaseOptions db_options;
  db_options.query_hook = options.query_hook;
  db_options.sqlite_readers = options.sqlite_readers;
  if (config.postgres) {
    PgChangeFeed::Options feed;
    feed.catch_up_interval = options.change_catch_up_interval;
    feed.announce = options.announce_changes;
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(*config.postgres, config.max_open_connections, db_options, feed);
    if (!store.ok()) return store.status();
    if (options.run_migrations) {
      absl::Status s = (*store)->database().Migrate(PostgresMigrations());
      if (!s.ok()) return s;
    }
    if (options.listen_for_changes) {
      absl::Status s = (*store)->StartListening();
      if (!s.ok()) return s;
    }
    return std::unique_ptr<Store>(std::move(*store));
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(config.sqlite.value_or(db::SqliteConfig{}), db_options);
  if (!store.ok()) return store.status();
  if (options.run_migrations) {
    absl::Status s = (*store)->database().Migrate(SqliteMigrations());
    if (!s.ok()) return s;
  }
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace flyte::runs
