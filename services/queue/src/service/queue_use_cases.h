#pragma once
// Use cases of queue-service: what QueueService (runs-service enqueues and aborts) and LeaseService (executors
// take and keep work) do, over an ActionQueue and, for leases, a QueueBackend. No gRPC types, no SQL.
// Without a lease backend (queue.backend: kubernetes, where executors reconcile TaskActions) every lease call
// answers kFailedPrecondition saying so.
//
// Long-poll: Acquire with a wait blocks the calling (pool) thread on a condition variable until an Enqueue or
// Release in this process signals new work, the poll interval passes (expired leases and other replicas' enqueues
// are only seen by polling), the wait ends, or Shutdown. At most `max_waiting_acquires` calls wait at once; beyond
// that Acquire answers at once (possibly empty), so waiting executors can never occupy every worker thread: the
// pool is sized workerThreads + maxWaitingAcquires (see setup.cc).
//
// Thread-safe.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/queue_entry.h"
#include "flyte/common/clock.h"
#include "flyte/common/watch_hub.h"
#include "repository/queue_backend.h"

namespace flyte::metrics {
class Registry;
}

namespace flyte::queue {

struct QueueOptions {
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds max_wait{30000};        // cap on a caller's long-poll wait
  std::chrono::milliseconds poll_interval{1000};    // re-check the database this often while waiting
  std::chrono::milliseconds done_retention{600000}; // DONE entries are deleted this long after finishing
  std::chrono::milliseconds maintenance_interval{5000};  // depth gauges + cleanup
  int max_waiting_acquires = 32;
  int max_leases_per_acquire = 100;
};

// Asked by a waiting Acquire before it claims anything: true when nobody will receive the answer (the caller's
// call was cancelled or its deadline passed). Must be cheap and thread-safe.
using AcquireCancelled = std::function<bool()>;

class QueueUseCases {
 public:
  // Most items in one EnqueueMany / CompleteMany call (one transaction).
  static constexpr size_t kMaxBatch = 1000;

  // `metrics` may be null. All references must outlive this object.
  QueueUseCases(QueueBackend& backend, common::Clock& clock, metrics::Registry* metrics, QueueOptions options);
  // Enqueue and abort only: `leases` null means LeaseService is not available with this backend.
  QueueUseCases(ActionQueue& queue, QueueBackend* leases, common::Clock& clock, metrics::Registry* metrics,
                QueueOptions options);
  ~QueueUseCases();  // Shutdown()
  QueueUseCases(const QueueUseCases&) = delete;
  QueueUseCases& operator=(const QueueUseCases&) = delete;

  // kInvalidArgument naming the field (ValidateNewEntry). Idempotent: the same action again is OK, no change.
  absl::Status Enqueue(const NewEntry& entry);
  // Enqueue for each entry, one outcome each (same order, as Enqueue's): the valid ones are stored in one
  // transaction, an invalid one is answered kInvalidArgument (naming entries[i] and the field) and not stored.
  // kInvalidArgument for the call if there are more than kMaxBatch entries; a database failure fails the call
  // (nothing stored).
  absl::StatusOr<std::vector<absl::Status>> EnqueueMany(std::vector<NewEntry> entries);
  // kInvalidArgument for a bad key. A run with nothing queued is OK.
  absl::Status AbortRun(const RunKey& run, const std::string& reason);
  // kInvalidArgument for a bad key; kNotFound if the action is not queued.
  absl::Status AbortAction(const ActionKey& action, const std::string& reason);

  // Leases up to `max` (1..max_leases_per_acquire; 0 means 1) entries to `executor`, waiting up to
  // min(wait, max_wait, deadline) for work when none is ready. Returns an empty list when the wait ends without
  // work or the service is shutting down.
  // `cancelled` (optional) is checked right before every claim and while waiting: once it is true Acquire leases
  // nothing and answers kCancelled. Call WakeWaiters() when it turns true so a waiting call notices at once
  // rather than at the next poll. Leases claimed in the instant the caller was cancelled are released again
  // (they are handed out next with delivery + 1), never left to expire.
  absl::StatusOr<std::vector<QueueEntry>> Acquire(
      const std::string& executor, int max, std::chrono::milliseconds wait,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
      const AcquireCancelled& cancelled = nullptr);
  // Makes every waiting Acquire re-check its `cancelled` (and the shutdown flag) now. Cheap; any thread.
  void WakeWaiters();
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& executor, const std::vector<std::string>& lease_ids);
  // kFailedPrecondition if the lease is not held by `executor`.
  absl::Status Complete(const std::string& executor, const std::string& lease_id);
  // Complete for each lease, one outcome each (same order, as Complete's), in one transaction. kInvalidArgument for
  // the call (bad executor id, more than kMaxBatch leases); a database failure fails the call (none completed).
  absl::StatusOr<std::vector<absl::Status>> CompleteMany(const std::string& executor,
                                                         const std::vector<std::string>& lease_ids);
  absl::Status Release(const std::string& executor, const std::string& lease_id);

  // LeaseService.WatchAborts: `send` gets the aborted entries `executor` holds now (possibly none: the stream is
  // live), then, as each AbortRun / AbortAction accepted by this process flags entries it holds, those. Called on
  // the aborting thread; must not block. Delivery stops when the returned subscription is destroyed.
  // kInvalidArgument (executor id), kFailedPrecondition (no leases here), kUnavailable (database).
  using AbortSink = std::function<void(const std::vector<QueueEntry>&)>;
  using AbortSubscription = common::WatchHub<std::vector<QueueEntry>>::Subscription;
  absl::StatusOr<std::unique_ptr<AbortSubscription>> WatchAborts(const std::string& executor, AbortSink send);

  // Refreshes the depth gauges and deletes DONE entries older than done_retention. Run by the maintenance thread;
  // public for tests.
  absl::Status RunMaintenance();
  // Starts the maintenance thread (every maintenance_interval). Idempotent.
  void StartMaintenance();
  // Wakes every waiting Acquire (they return empty at once), refuses new waits and stops maintenance.
  // Idempotent.
  void Shutdown();

  std::chrono::milliseconds lease_duration() const { return options_.lease_duration; }
  int waiting_acquires() const { return waiting_.load(); }

 private:
  struct Metrics;
  void SignalWork();
  // kFailedPrecondition when this queue has no leases.
  absl::Status NeedLeases() const;
  // After an abort in `run`: hands the leased entries it flagged to the WatchAborts streams of their holders.
  void PushAborts(const RunKey& run);

  ActionQueue& queue_;
  QueueBackend* leases_;  // null: no LeaseService
  common::Clock& clock_;
  const QueueOptions options_;
  std::unique_ptr<Metrics> metrics_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  uint64_t work_generation_ = 0;  // bumped whenever something may have become acquirable
  bool shutting_down_ = false;
  std::atomic<int> waiting_{0};

  common::WatchHub<std::vector<QueueEntry>> aborts_;  // by executor id

  std::condition_variable maintenance_cv_;
  std::thread maintenance_;
};

}  // namespace flyte::queue
