#pragma once
// Persistence ports of the queue, in two halves:
//  * ActionQueue: what QueueService needs (runs-service enqueues and aborts). Implemented by the SQL backend
//    (SQLite and PostgreSQL, repository/sql_queue_backend.h) and by the Kubernetes backend (TaskAction custom
//    resources, repository/kubernetes_action_queue.h); both pass tests/action_queue_conformance_test.cc.
//  * QueueBackend: an ActionQueue that also hands its entries to executors under leases (LeaseService, the local
//    process runtime). The SQL backend only, tested by tests/backend_conformance_test.cc. On Kubernetes the
//    executor reconciles TaskActions instead, so there are no leases.
//
// Guarantees every implementation gives:
//  * Enqueue is idempotent per ActionKey: a second enqueue of the same key (whatever its state) changes nothing.
//  * A lease is held by one executor at a time: Acquire hands an entry out only when it is READY or its lease has
//    expired, atomically with recording the new lease, so concurrent Acquire calls (threads, processes, replicas
//    sharing a PostgreSQL database) never receive the same entry with overlapping leases.
//  * Lease ids are unique per hand-out, so a stale lease id never matches a newer lease of the same entry.
//
// Thread-safe. Never throws: store unreachable -> kUnavailable, anything unexpected -> kInternal.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/queue_entry.h"

namespace flyte::queue {

struct AcquireResult {
  std::vector<QueueEntry> leased;  // oldest first, each LEASED to the caller
  int64_t expired_reclaimed = 0;   // how many of them came from an expired lease
  int64_t expired_dropped = 0;     // expired leases of aborted entries, now DONE instead of handed out again
};

struct HeartbeatResult {
  std::vector<QueueEntry> renewed;          // with the new expiry and the current abort flag
  std::vector<std::string> lost_lease_ids;  // expired, completed, released or never owned by the caller
};

struct QueueDepth {
  int64_t ready = 0;
  int64_t leased = 0;  // includes leases past expiry not yet handed out again (Kubernetes: being run)
  int64_t done = 0;    // kept for doneRetention (Kubernetes: finished TaskActions not yet deleted)
};

class ActionQueue {
 public:
  virtual ~ActionQueue() = default;

  // Stores a READY entry. Returns true if it was new, false if the key was already queued (no change).
  // kInvalidArgument never (callers validate with ValidateNewEntry).
  virtual absl::StatusOr<bool> Enqueue(const NewEntry& entry, TimePoint now) = 0;
  // Enqueue for each entry, in order: one result each (true = new; a key already queued, or repeated within the
  // batch, is false). SQL: one transaction, a failure stores none of them. Kubernetes: one object each, a failure
  // may leave the earlier ones stored (enqueueing them again is idempotent).
  virtual absl::StatusOr<std::vector<bool>> EnqueueMany(const std::vector<NewEntry>& entries, TimePoint now) = 0;

  // Asks every unfinished entry of the run to stop: READY ones never run. Returns how many were flagged (0 if
  // the run has nothing queued: not an error).
  virtual absl::StatusOr<int64_t> AbortRun(const RunKey& run, const std::string& reason, TimePoint now) = 0;
  // Same for one action and every descendant. kNotFound if the action was never enqueued (or is cleaned up).
  virtual absl::StatusOr<int64_t> AbortAction(const ActionKey& action, const std::string& reason,
                                              TimePoint now) = 0;

  // The entry of `key` (key, parent, payload, abort flag, state); kNotFound if absent.
  virtual absl::StatusOr<QueueEntry> Get(const ActionKey& key) = 0;
  virtual absl::StatusOr<QueueDepth> Depth() = 0;
  // kUnavailable if the backing store cannot be reached (readiness).
  virtual absl::Status Ping() = 0;
};

class QueueBackend : public ActionQueue {
 public:
  // Leases up to `max` entries to `executor` until now + lease_duration: READY ones and LEASED ones whose lease
  // expired (those count as expired), oldest first. delivery_count + 1 for each. Expired leases of aborted
  // entries are not handed out again: they become DONE.
  virtual absl::StatusOr<AcquireResult> Acquire(const std::string& executor, int max, TimePoint now,
                                                std::chrono::milliseconds lease_duration) = 0;
  // Renews each lease still LEASED to `executor` and not yet expired at `now`; the rest are reported lost.
  virtual absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& executor,
                                                    const std::vector<std::string>& lease_ids, TimePoint now,
                                                    std::chrono::milliseconds lease_duration) = 0;
  // Marks the entry DONE. kFailedPrecondition if `lease_id` is not currently LEASED to `executor` (another
  // executor owns it now, it was completed or released, or it never existed). A lease past its expiry that nobody
  // took over can still be completed.
  virtual absl::Status Complete(const std::string& executor, const std::string& lease_id, TimePoint now) = 0;
  // Complete for each lease, in order, in one transaction: one outcome each (OK or kFailedPrecondition, as
  // Complete). A failed call (database trouble) completed none of them.
  virtual absl::StatusOr<std::vector<absl::Status>> CompleteMany(const std::string& executor,
                                                                 const std::vector<std::string>& lease_ids,
                                                                 TimePoint now) = 0;
  // Gives the entry back: READY again (DONE if it was aborted). kFailedPrecondition as for Complete.
  virtual absl::Status Release(const std::string& executor, const std::string& lease_id, TimePoint now) = 0;

  // LEASED entries whose abort was requested, oldest first (payload left out): of `run` when given, else of every
  // run; held by `executor` when it is not empty. Whoever holds them must be told to stop (LeaseService.WatchAborts).
  virtual absl::StatusOr<std::vector<QueueEntry>> AbortedLeases(const std::optional<RunKey>& run,
                                                                const std::string& executor) = 0;

  // Deletes DONE entries last updated before `before`. Returns how many.
  virtual absl::StatusOr<int64_t> DeleteDoneBefore(TimePoint before) = 0;
};

}  // namespace flyte::queue
