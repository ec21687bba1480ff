#pragma once
// QueueBackend on flyte::db, one implementation for SQLite and PostgreSQL (portable SQL with `?` parameters).
// The dialects differ in how Acquire claims rows:
//  * SQLite: every write runs under the single writer connection (BEGIN IMMEDIATE), so select-then-update inside
//    one Write is atomic against every other writer, in this process or another.
//  * PostgreSQL: one statement that locks with FOR UPDATE SKIP LOCKED and leases what it locked, so several
//    queue-service replicas sharing one database claim disjoint rows without waiting on each other; a row changed
//    concurrently is re-checked by PostgreSQL before it is locked (READ COMMITTED), so a reclaimed or completed
//    entry is never handed out twice.
// Batch writes (enqueue, complete) are one statement over unnest() on PostgreSQL, one per row on SQLite.
//
// Thread-safe (the Database is). Owns the Database.
#include <memory>

#include "flyte/db/database.h"
#include "repository/queue_backend.h"

namespace flyte::queue {

class SqlQueueBackend final : public QueueBackend {
 public:
  explicit SqlQueueBackend(std::unique_ptr<db::Database> db) : db_(std::move(db)) {}

  absl::StatusOr<bool> Enqueue(const NewEntry& entry, TimePoint now) override;
  absl::StatusOr<std::vector<bool>> EnqueueMany(const std::vector<NewEntry>& entries, TimePoint now) override;
  absl::StatusOr<int64_t> AbortRun(const RunKey& run, const std::string& reason, TimePoint now) override;
  absl::StatusOr<int64_t> AbortAction(const ActionKey& action, const std::string& reason, TimePoint now) override;
  absl::StatusOr<AcquireResult> Acquire(const std::string& executor, int max, TimePoint now,
                                        std::chrono::milliseconds lease_duration) override;
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& executor, const std::vector<std::string>& lease_ids,
                                            TimePoint now, std::chrono::milliseconds lease_duration) override;
  absl::Status Complete(const std::string& executor, const std::string& lease_id, TimePoint now) override;
  absl::StatusOr<std::vector<absl::Status>> CompleteMany(const std::string& executor,
                                                         const std::vector<std::string>& lease_ids,
                                                         TimePoint now) override;
  absl::Status Release(const std::string& executor, const std::string& lease_id, TimePoint now) override;
  absl::StatusOr<QueueDepth> Depth() override;
  absl::StatusOr<QueueEntry> Get(const ActionKey& key) override;
  absl::StatusOr<std::vector<QueueEntry>> AbortedLeases(const std::optional<RunKey>& run,
                                                        const std::string& executor) override;
  absl::StatusOr<int64_t> DeleteDoneBefore(TimePoint before) override;
  absl::Status Ping() override { return db_->Ping(); }

  db::Database& database() { return *db_; }

 private:
  absl::Status WriteLeases(db::Tx& tx, const std::vector<QueueEntry>& leased, const std::vector<int64_t>& dropped,
                           const std::string& executor, int64_t expires, int64_t t);
  absl::StatusOr<AcquireResult> AcquireInOneStatement(const std::string& executor, int max, int64_t t,
                                                      int64_t expires);
  bool postgres() const { return db_->dialect() == db::Dialect::kPostgres; }
  std::unique_ptr<db::Database> db_;
};

// A fresh random lease id (128 bits, hex). Thread-safe.
std::string NewLeaseId();

}  // namespace flyte::queue
