#include "repository/postgres/postgres_store.h"

#include <iostream>
#include <random>
#include <string>

#include <fmt/format.h>

namespace flyte::runs {

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const db::PostgresConfig& config, int max_open,
                                                                   const db::DatabaseOptions& options,
                                                                   const PgChangeFeed::Options& feed) {
  // A random instance id names this process's connections, so that other replicas can tell its outbox claims
  // from those of a process that died (SqlQueueOutbox::set_owner), and its rows in the change log.
  std::random_device rd;
  const std::string instance = fmt::format("{:08x}{:08x}", rd(), rd());
  db::DatabaseOptions named = options;
  named.application_name = kOwnerApplicationPrefix + instance;
  absl::StatusOr<std::unique_ptr<db::Database>> database = db::OpenPostgres(config, max_open, named);
  if (!database.ok()) return database.status();
  return std::make_unique<PostgresStore>(std::move(*database), config, instance, feed);
}

PostgresStore::PostgresStore(std::unique_ptr<db::Database> db, db::PostgresConfig config, const std::string& instance,
                             const PgChangeFeed::Options& feed)
    : SqlStore(std::move(db)), config_(std::move(config)), feed_(database(), instance, kActionChangeChannel, feed) {
  sql_outbox().set_owner(instance);
  sql_actions().SetChangeLog(instance, [this] { feed_.Announce(); });
}

PostgresStore::~PostgresStore() {
  // Before the repositories they call into go away.
  if (listener_) listener_->Stop();
  feed_.Stop();
}

absl::Status PostgresStore::StartListening() {
  if (listener_) return absl::OkStatus();
  SqlActionRepository* actions = &sql_actions();
  if (absl::Status s = feed_.Follow([actions](const ActionChange& c) { actions->Deliver(c); }); !s.ok()) return s;
  db::Database* db = &database();
  PgChangeFeed* feed = &feed_;
  absl::StatusOr<std::unique_ptr<db::PgListener>> l = db::PgListener::Start(
      config_, kActionChangeChannel,
      {[db, feed, actions](std::string_view payload, int sender_pid) {
         // This process's changes were delivered to its watchers when they committed.
         if (db->IsOwnSession(sender_pid)) return;
         if (payload.empty()) {
           feed->Heard();
           return;
         }
         // A replica of an older version (during a rolling upgrade) NOTIFYs each change in its transaction and
         // writes no change log.
         absl::StatusOr<ActionChange> change = DecodeActionChange(payload);
         if (change.ok()) {
           actions->Deliver(*change);
         } else {
           std::cerr << "ignoring malformed action change notification\n";
         }
       },
       // NOTIFYs sent while the connection was down were lost, not the changes: read the log now rather than at
       // the next periodic read.
       [feed](std::chrono::system_clock::time_point) { feed->Heard(); }});
  if (!l.ok()) return l.status();
  listener_ = std::move(*l);
  return absl::OkStatus();
}

}  // namespace flyte::runs
