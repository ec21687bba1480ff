#pragma once
// Store on PostgreSQL (pooled connections). Replicas sharing the database hear each other's action changes through
// the change feed (pg_change_feed.h): every changing transaction appends to action_change_log, a NOTIFY after the
// commit wakes the other replicas' LISTEN loops, and each replica reads the log on a NOTIFY and on a timer, so a
// change whose writer died before its NOTIFY still arrives. Thread-safe.
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/listener.h"
#include "repository/postgres/pg_change_feed.h"
#include "repository/sql_store.h"

namespace flyte::runs {

class PostgresStore final : public SqlStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const db::PostgresConfig& config, int max_open,
                                                             const db::DatabaseOptions& options,
                                                             const PgChangeFeed::Options& feed = {});
  PostgresStore(std::unique_ptr<db::Database> db, db::PostgresConfig config, const std::string& instance,
                const PgChangeFeed::Options& feed);
  ~PostgresStore() override;

  // Starts handing other replicas' changes to the change listener. kUnavailable if the first LISTEN or read of the
  // change log fails; afterwards the loops reconnect and retry by themselves.
  absl::Status StartListening();

 private:
  db::PostgresConfig config_;
  PgChangeFeed feed_;
  std::unique_ptr<db::PgListener> listener_;
};

}  // namespace flyte::runs
