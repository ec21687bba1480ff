#include "repository/postgres/postgres_store.h"

#include <iostream>
#include <random>

#include <fmt/format.h>

namespace flyte::runs {

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const db::PostgresConfig& config, int max_open,
                                                                   const db::DatabaseOptions& options) {
  // A random instance id names this process's connections, so that other replicas can tell its outbox claims
  // from those of a process that died (SqlQueueOutbox::set_owner).
  std::random_device rd;
  const std::string instance = fmt::format("{:08x}{:08x}", rd(), rd());
  db::DatabaseOptions named = options;
  named.application_name = kOwnerApplicationPrefix + instance;
  absl::StatusOr<std::unique_ptr<db::Database>> database = db::OpenPostgres(config, max_open, named);
  if (!database.ok()) return database.status();
  auto store = std::make_unique<PostgresStore>(std::move(*database), config);
  store->sql_outbox().set_owner(instance);
  return store;
}

PostgresStore::~PostgresStore() {
  if (listener_) listener_->Stop();  // before the repositories it calls into go away
}

absl::Status PostgresStore::StartListening() {
  if (listener_) return absl::OkStatus();
  SqlActionRepository* actions = &sql_actions();
  db::Database* db = &database();
  absl::StatusOr<std::unique_ptr<db::PgListener>> l = db::PgListener::Start(
      config_, kActionChangeChannel,
      {[actions, db](std::string_view payload, int sender_pid) {
         // Changes made through this process were delivered to its watchers when they committed.
         if (db->IsOwnSession(sender_pid)) return;
         absl::StatusOr<ActionChange> change = DecodeActionChange(payload);
         if (!change.ok()) {
           std::cerr << "ignoring malformed action change notification\n";
           return;
         }
         actions->Deliver(*change);
       },
       [actions](std::chrono::system_clock::time_point last_heard) {
         // Other replicas' changes while the connection was down were not heard: re-read them. Changes are
         // stamped with the reporter's clock (an executor's report may arrive late), hence the margin.
         absl::StatusOr<size_t> n = actions->DeliverChangedSince(last_heard - kResyncMargin);
         if (!n.ok()) {
           std::cerr << "LISTEN reconnected; re-reading missed action changes failed: " << n.status() << "\n";
         } else {
           std::cerr << "LISTEN reconnected; re-read " << *n << " action change(s) it may have missed\n";
         }
       }});
  if (!l.ok()) return l.status();
  listener_ = std::move(*l);
  return absl::OkStatus();
}

}  // namespace flyte::runs
