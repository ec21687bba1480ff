#pragma once
// Store on PostgreSQL (pooled connections). Every committed change sends NOTIFY on kActionChangeChannel inside its
// transaction; StartListening() runs a LISTEN loop that hands every replica's changes (this one's included) to the
// change listener, and after a lost LISTEN connection re-reads what it may have missed. Thread-safe.
#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/listener.h"
#include "repository/sql_store.h"

namespace flyte::runs {

class PostgresStore final : public SqlStore {
 public:
  // After the LISTEN connection comes back, actions updated since this long before it was last known good are
  // delivered again (watchers get their current state; a change they already had is harmless).
  static constexpr std::chrono::seconds kResyncMargin{60};

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
