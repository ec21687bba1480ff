#pragma once
// Store on one SQLite file (WAL, one writer, a few readers). Change listeners run on the writer's thread right
// after commit. Thread-safe.
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "repository/sql_store.h"

namespace flyte::runs {

class SqliteStore final : public SqlStore {
 public:
  // Opens (creating) the file; does not migrate (OpenStore does).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const db::SqliteConfig& config,
                                                           const db::DatabaseOptions& options);
  explicit SqliteStore(std::unique_ptr<db::Database> db) : SqlStore(std::move(db)) {}
};

}  // namespace flyte::runs
