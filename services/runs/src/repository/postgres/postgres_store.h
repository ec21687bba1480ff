#pragma once
// Store on PostgreSQL (pooled connections). Every committed change sends NOTIFY on kActionChangeChannel inside its
// transaction; StartListening() runs a LISTEN loop that hands every replica's changes (this one's included) to the
// change listener. Thread-safe.
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/listener.h"
#include "repository/sql_store.h"

namespace flyte::runs {

class PostgresStore final : public SqlStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const db::PostgresConfig& config, int max_open,
                                                             const db::DatabaseOptions& options);
  PostgresStore(std::unique_ptr<db::Database> db, db::PostgresConfig config)
      : SqlStore(std::move(db)), config_(std::move(config)) {}
  ~PostgresStore() override;

  // kUnavailable if the first LISTEN fails; afterwards the loop reconnects by itself.
  absl::Status StartListening();

 private:
  db::PostgresConfig config_;
  std::unique_ptr<db::PgListener> listener_;
};

}  // namespace flyte::runs
