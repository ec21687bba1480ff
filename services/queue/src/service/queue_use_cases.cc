#include "service/queue_use_cases.h"

#include <algorithm>
#include <map>
#include <utility>

#include "flyte/app/log.h"
#include "flyte/metrics/registry.h"

namespace flyte::queue {

struct QueueUseCases::Metrics {
  explicit Metrics(metrics::Registry& r)
      : depth(prometheus::BuildGauge()
                  .Name("flyte_queue_depth")
                  .Help("Queue entries by state (ready, leased, done awaiting cleanup)")
                  .Register(r.prometheus())),
        ready(depth.Add({{"state", "ready"}})),
        leased(depth.Add({{"state", "leased"}})),
        done(depth.Add({{"state", "done"}})),
        leases_held(prometheus::BuildGauge()
                        .Name("flyte_queue_leases_held")
                        .Help("Leases currently held by executors (including expired ones not yet reassigned)")
                        .Register(r.prometheus())
                        .Add({})),
        leases_expired(prometheus::BuildCounter()
                           .Name("flyte_queue_leases_expired_total")
                           .Help("Leases that expired and were taken back (handed out again or dropped if aborted)")
                           .Register(r.prometheus())
                           .Add({})),
        enqueued(prometheus::BuildCounter()
                     .Name("flyte_queue_enqueued_total")
                     .Help("Actions newly enqueued (repeated enqueues of the same action are not counted)")
                     .Register(r.prometheus())
                     .Add({})),
        aborts_family(prometheus::BuildCounter()
                          .Name("flyte_queue_aborts_total")
                          .Help("Abort requests accepted, by scope (run, action)")
                          .Register(r.prometheus())),
        aborts_run(aborts_family.Add({{"scope", "run"}})),
        aborts_action(aborts_family.Add({{"scope", "action"}})),
        cleaned(prometheus::BuildCounter()
                    .Name("flyte_queue_cleaned_total")
                    .Help("DONE entries deleted after the retention period")
                    .Register(r.prometheus())
                    .Add({})) {}

  void SetDepth(const QueueDepth& d) {
    ready.Set(static_cast<double>(d.ready));
    leased.Set(static_cast<double>(d.leased));
    done.Set(static_cast<double>(d.done));
    leases_held.Set(static_cast<double>(d.leased));
  }

  prometheus::Family<prometheus::Gauge>& depth;
  prometheus::Gauge& ready;
  prometheus::Gauge& leased;
  prometheus::Gauge& done;
  prometheus::Gauge& leases_held;
  prometheus::Counter& leases_expired;
  prometheus::Counter& enqueued;
  prometheus::Family<prometheus::Counter>& aborts_family;
  prometheus::Counter& aborts_run;
  prometheus::Counter& aborts_action;
  prometheus::Counter& cleaned;
};

QueueUseCases::QueueUseCases(QueueBackend& backend, common::Clock& clock, metrics::Registry* metrics,
                             QueueOptions options)
    : QueueUseCases(backend, &backend, clock, metrics, options) {}

QueueUseCases::QueueUseCases(ActionQueue& queue, QueueBackend* leases, common::Clock& clock,
                             metrics::Registry* metrics, QueueOptions options)
    : queue_(queue), leases_(leases), clock_(clock), options_(options) {
  if (metrics) metrics_ = std::make_unique<Metrics>(*metrics);
}

absl::Status QueueUseCases::NeedLeases() const {
  if (leases_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this queue-service runs with queue.backend kubernetes: actions become TaskAction resources that an executor "
      "with executor.runtime kubernetes reconciles; there are no leases to take");
}

QueueUseCases::~QueueUseCases() { Shutdown(); }

void QueueUseCases::SignalWork() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++work_generation_;
  }
  work_cv_.notify_all();
}

void QueueUseCases::WakeWaiters() {
  // Taking the lock orders this after a waiter's predicate check, so the wake-up cannot be missed.
  { std::lock_guard<std::mutex> lock(mu_); }
  work_cv_.notify_all();
}

absl::Status QueueUseCases::Enqueue(const NewEntry& entry) {
  if (absl::Status s = ValidateNewEntry(entry); !s.ok()) return s;
  absl::StatusOr<bool> created = queue_.Enqueue(entry, clock_.Now());
  if (!created.ok()) return created.status();
  if (*created) {
    if (metrics_) metrics_->enqueued.Increment();
    FLYTE_LOG(kDebug, "enqueued {}", entry.key.ToString());
    SignalWork();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<absl::Status>> QueueUseCases::EnqueueMany(std::vector<NewEntry> entries) {
  if (entries.size() > kMaxBatch) {
    return absl::InvalidArgumentError("at most " + std::to_string(kMaxBatch) + " actions per batch, got " +
                                      std::to_string(entries.size()));
  }
  std::vector<absl::Status> outcomes(entries.size());
  std::vector<NewEntry> valid;
  std::vector<size_t> index;  // valid[k] is entries[index[k]]
  for (size_t i = 0; i < entries.size(); ++i) {
    if (absl::Status s = ValidateNewEntry(entries[i]); !s.ok()) {
      outcomes[i] = absl::InvalidArgumentError("actions[" + std::to_string(i) + "]: " + std::string(s.message()));
      continue;
    }
    valid.push_back(std::move(entries[i]));
    index.push_back(i);
  }
  if (valid.empty()) return outcomes;
  absl::StatusOr<std::vector<bool>> created = queue_.EnqueueMany(valid, clock_.Now());
  if (!created.ok()) return created.status();
  int64_t fresh = 0;
  for (bool c : *created) fresh += c ? 1 : 0;
  if (fresh > 0) {
    if (metrics_) metrics_->enqueued.Increment(static_cast<double>(fresh));
    FLYTE_LOG(kDebug, "enqueued {} of a batch of {}", fresh, entries.size());
    SignalWork();  // once for the batch: a waiting Acquire takes up to max_leases at a time
  }
  return outcomes;
}

absl::Status QueueUseCases::AbortRun(const RunKey& run, const std::string& reason) {
  if (absl::Status s = ValidateRunKey(run, "run_id"); !s.ok()) return s;
  absl::StatusOr<int64_t> n = queue_.AbortRun(run, reason, clock_.Now());
  if (!n.ok()) return n.status();
  if (metrics_) metrics_->aborts_run.Increment();
  if (*n > 0) PushAborts(run);
  return absl::OkStatus();
}

absl::Status QueueUseCases::AbortAction(const ActionKey& action, const std::string& reason) {
  if (absl::Status s = ValidateActionKey(action, "action_id"); !s.ok()) return s;
  absl::StatusOr<int64_t> n = queue_.AbortAction(action, reason, clock_.Now());
  if (!n.ok()) return n.status();
  if (metrics_) metrics_->aborts_action.Increment();
  if (*n > 0) PushAborts(action.run);  // the run's aborted leases include this action's subtree
  return absl::OkStatus();
}

void QueueUseCases::PushAborts(const RunKey& run) {
  if (leases_ == nullptr || aborts_.TopicCount() == 0) return;  // nobody to tell: heartbeats carry the flag
  absl::StatusOr<std::vector<QueueEntry>> held = leases_->AbortedLeases(run, "");
  if (!held.ok()) return;  // the flag is stored; the holders learn it at their next heartbeat
  std::map<std::string, std::vector<QueueEntry>> by_executor;
  for (QueueEntry& e : *held) by_executor[e.lease_owner].push_back(std::move(e));
  for (auto& [executor, entries] : by_executor) aborts_.Publish(executor, std::move(entries));
}

absl::StatusOr<std::unique_ptr<QueueUseCases::AbortSubscription>> QueueUseCases::WatchAborts(
    const std::string& executor, AbortSink send) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  // Subscribe first, so an abort between the read and the subscription is not lost (it may come twice: the
  // executor ignores an abort it already carries out).
  std::unique_ptr<AbortSubscription> sub = aborts_.Subscribe(executor, send);
  absl::StatusOr<std::vector<QueueEntry>> pending = leases_->AbortedLeases(std::nullopt, executor);
  if (!pending.ok()) return pending.status();
  send(*pending);
  return sub;
}

absl::StatusOr<std::vector<QueueEntry>> QueueUseCases::Acquire(const std::string& executor, int max,
                                                               std::chrono::milliseconds wait,
                                                               std::chrono::steady_clock::time_point deadline,
                                                               const AcquireCancelled& cancelled) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  if (max < 0 || max > options_.max_leases_per_acquire) {
    return absl::InvalidArgumentError("max_leases must be 1.." + std::to_string(options_.max_leases_per_acquire));
  }
  if (max == 0) max = 1;
  using std::chrono::steady_clock;
  const steady_clock::time_point until =
      std::min(deadline, steady_clock::now() + std::clamp(wait, std::chrono::milliseconds(0), options_.max_wait));

  bool counted_as_waiter = false;
  auto leave = [&] {
    if (counted_as_waiter) --waiting_;
  };
  auto is_cancelled = [&] { return cancelled && cancelled(); };
  const absl::Status cancelled_status = absl::CancelledError("acquire cancelled by the caller; nothing leased");
  while (true) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation = work_generation_;
    }
    // A caller that is gone would never receive what we claim; the entries would sit leased until expiry.
    if (is_cancelled()) {
      leave();
      return cancelled_status;
    }
    absl::StatusOr<AcquireResult> got =
        leases_->Acquire(executor, max, clock_.Now(), options_.lease_duration);
    if (!got.ok()) {
      leave();
      return got.status();
    }
    if (metrics_ && (got->expired_reclaimed + got->expired_dropped) > 0) {
      metrics_->leases_expired.Increment(static_cast<double>(got->expired_reclaimed + got->expired_dropped));
    }
    if (!got->leased.empty() && is_cancelled()) {
      // Cancelled while the claim ran: give the work back at once.
      for (const QueueEntry& e : got->leased) {
        if (absl::Status s = leases_->Release(executor, e.lease_id, clock_.Now()); !s.ok()) {
          FLYTE_LOG(kWarn, "releasing lease {} of cancelled acquire: {}", e.lease_id, s.ToString());
        }
      }
      SignalWork();
      leave();
      return cancelled_status;
    }
    if (!got->leased.empty() || steady_clock::now() >= until) {
      leave();
      return std::move(got->leased);
    }
    if (!counted_as_waiter) {
      if (waiting_.fetch_add(1) >= options_.max_waiting_acquires) {
        --waiting_;
        return std::vector<QueueEntry>{};  // too many waiters: answer now, the executor asks again
      }
      counted_as_waiter = true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) {
      lock.unlock();
      leave();
      return std::vector<QueueEntry>{};
    }
    const steady_clock::time_point wake = std::min(until, steady_clock::now() + options_.poll_interval);
    work_cv_.wait_until(lock, wake,
                        [&] { return shutting_down_ || work_generation_ != generation || is_cancelled(); });
  }
}

absl::StatusOr<HeartbeatResult> QueueUseCases::Heartbeat(const std::string& executor,
                                                         const std::vector<std::string>& lease_ids) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  if (lease_ids.size() > 1000) return absl::InvalidArgumentError("lease_ids: at most 1000 per heartbeat");
  return leases_->Heartbeat(executor, lease_ids, clock_.Now(), options_.lease_duration);
}

absl::Status QueueUseCases::Complete(const std::string& executor, const std::string& lease_id) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  if (lease_id.empty()) return absl::InvalidArgumentError("lease_id is required");
  return leases_->Complete(executor, lease_id, clock_.Now());
}

absl::StatusOr<std::vector<absl::Status>> QueueUseCases::CompleteMany(const std::string& executor,
                                                                      const std::vector<std::string>& lease_ids) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  if (lease_ids.size() > kMaxBatch) {
    return absl::InvalidArgumentError("at most " + std::to_string(kMaxBatch) + " completions per batch, got " +
                                      std::to_string(lease_ids.size()));
  }
  std::vector<absl::Status> outcomes(lease_ids.size());
  std::vector<std::string> ids;
  std::vector<size_t> index;  // ids[k] is lease_ids[index[k]]
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    if (lease_ids[i].empty()) {
      outcomes[i] = absl::InvalidArgumentError("completions[" + std::to_string(i) + "].lease_id is required");
      continue;
    }
    ids.push_back(lease_ids[i]);
    index.push_back(i);
  }
  if (ids.empty()) return outcomes;
  absl::StatusOr<std::vector<absl::Status>> done = leases_->CompleteMany(executor, ids, clock_.Now());
  if (!done.ok()) return done.status();
  for (size_t k = 0; k < done->size(); ++k) outcomes[index[k]] = (*done)[k];
  return outcomes;
}

absl::Status QueueUseCases::Release(const std::string& executor, const std::string& lease_id) {
  if (absl::Status s = NeedLeases(); !s.ok()) return s;
  if (absl::Status s = ValidateExecutorId(executor); !s.ok()) return s;
  if (lease_id.empty()) return absl::InvalidArgumentError("lease_id is required");
  absl::Status s = leases_->Release(executor, lease_id, clock_.Now());
  if (s.ok()) SignalWork();
  return s;
}

absl::Status QueueUseCases::RunMaintenance() {
  if (leases_ != nullptr) {
    absl::StatusOr<int64_t> deleted = leases_->DeleteDoneBefore(clock_.Now() - options_.done_retention);
    if (!deleted.ok()) return deleted.status();
    if (metrics_ && *deleted > 0) metrics_->cleaned.Increment(static_cast<double>(*deleted));
  }
  absl::StatusOr<QueueDepth> depth = queue_.Depth();
  if (!depth.ok()) return depth.status();
  if (metrics_) metrics_->SetDepth(*depth);
  return absl::OkStatus();
}

void QueueUseCases::StartMaintenance() {
  std::lock_guard<std::mutex> lock(mu_);
  if (maintenance_.joinable() || shutting_down_) return;
  maintenance_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!shutting_down_) {
      lock.unlock();
      if (absl::Status s = RunMaintenance(); !s.ok()) {
        FLYTE_LOG(kWarn, "queue maintenance failed: {}", s.ToString());
      }
      lock.lock();
      maintenance_cv_.wait_for(lock, options_.maintenance_interval, [this] { return shutting_down_; });
    }
  });
}

void QueueUseCases::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  work_cv_.notify_all();
  maintenance_cv_.notify_all();
  if (maintenance_.joinable() && maintenance_.get_id() != std::this_thread::get_id()) maintenance_.join();
}

}  // namespace flyte::queue
