#pragma once
// Sends the queue outbox (repository/queue_outbox.h) to queue-service through the QueueClient port, from one
// background thread:
//   claim due commands (oldest first) -> send them in order -> delete the acknowledged ones (one transaction per
//   batch).
// Consecutive enqueues of a batch go out in one QueueClient::EnqueueBatch call (one queue-service transaction);
// aborts are sent one by one between them, so an abort never overtakes an enqueue recorded before it. The actions
// of those enqueues are read in one query per run (not one per command): enqueues of actions that are already
// terminal (aborted before they reached the queue) or gone are dropped without sending. Answers that can never succeed (kInvalidArgument, kNotFound, kFailedPrecondition,
// kAlreadyExists) are logged and dropped. Anything else (queue-service down, timeouts) keeps the command and the
// rest of the batch (so a run's abort never overtakes its enqueue) for a retry after a backoff that doubles from
// min_backoff up to max_backoff and returns to min_backoff after a success.
//
// Wake() after committing a command makes the thread look at once, so the normal path adds no latency; without
// wakes it still looks every poll_interval (commands recorded by another replica, or left by a crash). Several
// dispatchers may share one PostgreSQL database (claims skip each other); a duplicate send is harmless because
// queue-service's EnqueueAction is idempotent.
//
// Metrics (when a registry is given): flyte_runs_outbox_pending (commands not yet acknowledged, counted at most
// once per poll_interval by the thread) and flyte_runs_outbox_send_failures_total (failed sends, each retried).
//
// Thread-safe. Borrows store, client and metrics (all must outlive it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "clients/queue_client.h"
#include "flyte/common/clock.h"
#include "flyte/metrics/registry.h"
#include "repository/action_repository.h"

namespace flyte::runs {

struct QueueDispatcherOptions {
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds claim_for{30000};  // a claim left by a crashed dispatcher lapses after this
  size_t batch = 64;
  // A store used by this process alone (SQLite): claims found at start belong to a previous incarnation.
  bool release_claims_at_start = false;
};

class QueueDispatcher {
 public:
  // kFailedPrecondition from Start() if the store has no outbox.
  QueueDispatcher(Store& store, QueueClient& client, common::Clock& clock, QueueDispatcherOptions options = {},
                  metrics::Registry* metrics = nullptr);
  ~QueueDispatcher();  // Shutdown()
  QueueDispatcher(const QueueDispatcher&) = delete;
  QueueDispatcher& operator=(const QueueDispatcher&) = delete;

  absl::Status Start();
  // Something was committed to the outbox: look now. Cheap; callable from any thread.
  void Wake();
  // Stops the thread (an in-flight send finishes first). Unsent commands stay in the outbox. Idempotent.
  void Shutdown();

  // One pass on the calling thread (tests): claims and sends what is due. Returns the first send failure (the
  // command stays in the outbox) or a database error.
  absl::Status RunOnce();

  uint64_t sent() const { return sent_.load(); }          // commands acknowledged by queue-service
  uint64_t dropped() const { return dropped_.load(); }    // commands given up (permanent error, terminal action)
  uint64_t failures() const { return failures_.load(); }  // failed sends (each retried later)

 private:
  void Loop();
  // One outcome per command of [first, last) (all enqueues): OK = done with it (sent or dropped); otherwise a
  // retryable failure.
  std::vector<absl::Status> DeliverEnqueues(const std::vector<QueueCommand>& batch, size_t first, size_t last);
  absl::Status DeliverAbort(const QueueCommand& command);
  // What to do with queue-service's answer `s` to `command`: OK when done with it (sent, or refused for good and
  // dropped), else the retryable failure.
  absl::Status Settle(const QueueCommand& command, const absl::Status& s);
  // Waits up to `d`; a Wake() ends the wait early only when `wakeable`.
  void Wait(std::chrono::milliseconds d, bool wakeable);
  // Sets flyte_runs_outbox_pending from the outbox, at most once per poll_interval (thread only).
  void CountPending();

  Store& store_;
  QueueOutbox* outbox_;
  QueueClient& client_;
  common::Clock& clock_;
  QueueDispatcherOptions options_;
  std::chrono::milliseconds backoff_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool waiting_wakeable_ = false;  // the thread is in Wait() and a Wake() should end it
  bool stopping_ = false;
  std::thread thread_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failures_{0};
  uint64_t failures_logged_ = 0;

  prometheus::Gauge* pending_gauge_ = nullptr;        // null without a registry
  prometheus::Counter* failures_counter_ = nullptr;   // null without a registry
  std::chrono::steady_clock::time_point counted_at_{};
};

}  // namespace flyte::runs
