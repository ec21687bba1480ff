#include "service/queue_dispatcher.h"

#include <algorithm>
#include <string>

#include "flyte/app/log.h"

namespace flyte::runs {
namespace {

// queue-service will never accept these; retrying would only clog the outbox.
bool Permanent(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

const char* KindName(QueueCommandKind k) {
  switch (k) {
    case QueueCommandKind::kEnqueue: return "EnqueueAction";
    case QueueCommandKind::kAbortRun: return "AbortQueuedRun";
    case QueueCommandKind::kAbortAction: return "AbortQueuedAction";
  }
  return "?";
}

std::string Describe(const QueueCommand& c) {
  return std::string(KindName(c.kind)) + " " + c.key.run.project + "/" + c.key.run.domain + "/" + c.key.run.name +
         "/" + c.key.name;
}

}  // namespace

QueueDispatcher::QueueDispatcher(Store& store, QueueClient& client, common::Clock& clock,
                                 QueueDispatcherOptions options)
    : store_(store),
      outbox_(store.Outbox()),
      client_(client),
      clock_(clock),
      options_(options),
      backoff_(options.min_backoff) {}

QueueDispatcher::~QueueDispatcher() { Shutdown(); }

absl::Status QueueDispatcher::Start() {
  if (outbox_ == nullptr) return absl::FailedPreconditionError("the runs store keeps no queue outbox");
  if (options_.release_claims_at_start) {
    if (absl::Status s = outbox_->ReleaseClaims(); !s.ok()) {
      FLYTE_LOG(kWarn, "queue dispatcher: releasing old claims failed ({}); they lapse after {}ms", s.ToString(),
                options_.claim_for.count());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return absl::OkStatus();
  woken_ = true;  // whatever a previous run left behind is sent first
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void QueueDispatcher::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Every CreateRun wakes: signal only a thread that waits for it, once. A thread in a backoff or busy sending
    // would only wake up to go back to sleep (a context switch per call); it sees woken_ when it next waits.
    const bool notify = waiting_wakeable_ && !woken_;
    woken_ = true;
    if (!notify) return;
  }
  cv_.notify_one();
}

void QueueDispatcher::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void QueueDispatcher::Wait(std::chrono::milliseconds d, bool wakeable) {
  std::unique_lock<std::mutex> lock(mu_);
  waiting_wakeable_ = wakeable;
  cv_.wait_for(lock, d, [&] { return stopping_ || (wakeable && woken_); });
  waiting_wakeable_ = false;
  woken_ = false;
}

absl::Status QueueDispatcher::Deliver(const QueueCommand& c) {
  absl::Status s;
  if (c.kind == QueueCommandKind::kEnqueue) {
    // An action aborted (or otherwise ended) before its enqueue got through must not start now.
    absl::StatusOr<Action> action = store_.Actions().Get(c.key);
    if (action.status().code() == absl::StatusCode::kNotFound) {
      dropped_++;
      return absl::OkStatus();
    }
    if (!action.ok()) return action.status();
    if (IsTerminal(action->phase)) {
      dropped_++;
      return absl::OkStatus();
    }
    s = c.request.empty() ? client_.EnqueueAction(*action) : client_.EnqueueRequest(c.request);
  } else if (c.kind == QueueCommandKind::kAbortRun) {
    s = client_.AbortRun(c.key.run, c.reason);
  } else {
    s = client_.AbortAction(c.key, c.reason);
  }
  if (s.ok()) {
    sent_++;
    return s;
  }
  if (Permanent(s)) {
    // NOT_FOUND for an abort just means queue-service never had the action (or already cleaned it up).
    if (s.code() != absl::StatusCode::kNotFound) {
      FLYTE_LOG(kWarn, "queue dispatcher: {} refused, dropped: {}", Describe(c), s.ToString());
    }
    dropped_++;
    if (c.kind == QueueCommandKind::kEnqueue) {
      // An action the queue will never take must not sit QUEUED forever: it fails, saying why.
      ActionEvent failed;
      failed.attempt = 1;
      failed.phase = Phase::kFailed;
      failed.occurred_at = clock_.Now();
      failed.error = ErrorInfo{"queue-service refused the action: " + std::string(s.message()), ErrorKind::kSystem,
                               "EnqueueRejected"};
      absl::StatusOr<Action> applied = store_.Actions().ApplyEvent(c.key, failed);
      if (!applied.ok() && applied.status().code() != absl::StatusCode::kFailedPrecondition &&
          applied.status().code() != absl::StatusCode::kNotFound) {
        return applied.status();  // database trouble: try the whole command again later
      }
    }
    return absl::OkStatus();
  }
  return s;
}

absl::Status QueueDispatcher::RunOnce() {
  absl::StatusOr<std::vector<QueueCommand>> batch =
      outbox_->Claim(options_.batch, clock_.Now(), std::chrono::duration_cast<std::chrono::microseconds>(options_.claim_for));
  if (!batch.ok()) return batch.status();
  absl::Status first_failure;
  std::vector<int64_t> done, deferred;
  for (const QueueCommand& c : *batch) {
    if (!first_failure.ok()) {
      // Keep the order: nothing of this batch overtakes a command that failed.
      deferred.push_back(c.id);
      continue;
    }
    absl::Status s = Deliver(c);
    if (s.ok()) {
      done.push_back(c.id);
      continue;
    }
    failures_++;
    first_failure = s;
    (void)outbox_->Retry({c.id}, clock_.Now() + backoff_, s.ToString());
    if (failures_logged_++ % 20 == 0) {
      FLYTE_LOG(kWarn, "queue dispatcher: {} failed (retrying every <= {}ms): {}", Describe(c),
                options_.max_backoff.count(), s.ToString());
    }
  }
  // One transaction for the batch's acknowledgements (a crash before it only means harmless duplicate sends).
  if (absl::Status d = outbox_->Done(done); !d.ok()) {
    // Left claimed: sent again once the claims lapse (harmless duplicates).
    FLYTE_LOG(kWarn, "queue dispatcher: marking {} commands done failed: {}", done.size(), d.ToString());
  }
  (void)outbox_->Retry(deferred, clock_.Now() + backoff_, "deferred behind a failed command");
  if (first_failure.ok() && !batch->empty()) {
    if (failures_logged_ > 0) FLYTE_LOG(kInfo, "queue dispatcher: queue-service reachable again");
    failures_logged_ = 0;
  }
  if (first_failure.ok() && batch->size() >= options_.batch) Wake();  // more may be due
  return first_failure;
}

void QueueDispatcher::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    absl::Status s = RunOnce();
    if (s.ok()) {
      backoff_ = options_.min_backoff;
      Wait(options_.poll_interval, /*wakeable=*/true);
      continue;
    }
    // Queue-service (or the database) is away: new commits cannot get through either, so do not spin on wakes.
    Wait(backoff_, /*wakeable=*/false);
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
}

}  // namespace flyte::runs
