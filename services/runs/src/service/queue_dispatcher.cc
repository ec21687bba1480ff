#include "service/queue_dispatcher.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "flyte/app/log.h"

namespace flyte::runs {
namespace {

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

// Identifies an action within one batch.
std::string KeyId(const ActionKey& k) {
  return k.run.org + '\n' + k.run.project + '\n' + k.run.domain + '\n' + k.run.name + '\n' + k.name;
}

}  // namespace

QueueDispatcher::QueueDispatcher(Store& store, QueueClient& client, common::Clock& clock,
                                 QueueDispatcherOptions options, metrics::Registry* metrics)
    : store_(store),
      outbox_(store.Outbox()),
      client_(client),
      clock_(clock),
      options_(options),
      backoff_(options.min_backoff) {
  if (metrics != nullptr) {
    pending_gauge_ = &prometheus::BuildGauge()
                          .Name("flyte_runs_outbox_pending")
                          .Help("Queue commands in the outbox not yet acknowledged by queue-service.")
                          .Register(metrics->prometheus())
                          .Add({});
    failures_counter_ = &prometheus::BuildCounter()
                             .Name("flyte_runs_outbox_send_failures_total")
                             .Help("Failed sends of outbox commands to queue-service (each is retried later).")
                             .Register(metrics->prometheus())
                             .Add({});
  }
}

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

namespace {

// The actions of `keys`, read with one GetMany per run (a claimed batch usually holds one run's children). Keys
// without a row are absent from the answer.
absl::StatusOr<std::map<std::string, Action>> LoadActions(ActionRepository& actions,
                                                          const std::vector<const ActionKey*>& keys) {
  std::map<std::string, std::vector<const ActionKey*>> by_run;
  for (const ActionKey* k : keys) {
    by_run[KeyId(ActionKey{k->run, ""})].push_back(k);
  }
  std::map<std::string, Action> found;
  for (const auto& [run, run_keys] : by_run) {
    const RunKey& r = run_keys.front()->run;
    std::vector<std::string> names;
    names.reserve(run_keys.size());
    for (const ActionKey* k : run_keys) names.push_back(k->name);
    absl::StatusOr<std::vector<Action>> loaded = actions.GetMany(r, names);
    if (!loaded.ok()) return loaded.status();
    for (Action& a : *loaded) {
      std::string id = KeyId(a.key);
      found.emplace(std::move(id), std::move(a));
    }
  }
  return found;
}

}  // namespace

std::vector<absl::Status> QueueDispatcher::DeliverEnqueues(const std::vector<QueueCommand>& batch, size_t first,
                                                           size_t last) {
  std::vector<absl::Status> outcome(last - first);
  std::vector<const ActionKey*> keys;
  for (size_t i = first; i < last; ++i) keys.push_back(&batch[i].key);
  absl::StatusOr<std::map<std::string, Action>> actions = LoadActions(store_.Actions(), keys);
  if (!actions.ok()) {
    outcome.assign(outcome.size(), actions.status());  // database trouble: try them again later
    return outcome;
  }
  std::vector<EnqueueItem> items;
  std::vector<size_t> sent;  // items[k] is batch[sent[k]]
  for (size_t i = first; i < last; ++i) {
    const QueueCommand& c = batch[i];
    auto a = actions->find(KeyId(c.key));
    // An action aborted (or otherwise ended) before its enqueue got through must not start now.
    if (a == actions->end() || IsTerminal(a->second.phase)) {
      dropped_++;
      continue;
    }
    items.push_back(EnqueueItem{&a->second, &c.request});
    sent.push_back(i);
  }
  if (items.empty()) return outcome;
  absl::StatusOr<std::vector<absl::Status>> answers = client_.EnqueueBatch(items);
  if (answers.ok() && answers->size() != items.size()) {
    answers = absl::InternalError("queue client answered " + std::to_string(answers->size()) + " outcomes for " +
                                  std::to_string(items.size()) + " enqueues");
  }
  for (size_t k = 0; k < sent.size(); ++k) {
    const absl::Status& answer = answers.ok() ? (*answers)[k] : answers.status();
    outcome[sent[k] - first] = answers.ok() ? Settle(batch[sent[k]], answer) : answer;
  }
  return outcome;
}

absl::Status QueueDispatcher::DeliverAbort(const QueueCommand& c) {
  return Settle(c, c.kind == QueueCommandKind::kAbortRun ? client_.AbortRun(c.key.run, c.reason)
                                                         : client_.AbortAction(c.key, c.reason));
}

absl::Status QueueDispatcher::Settle(const QueueCommand& c, const absl::Status& s) {
  if (s.ok()) {
    sent_++;
    return s;
  }
  if (QueueClient::IsTransportTrouble(s)) return s;
  // Refused for good: queue-service will never accept it; retrying would only clog the outbox.
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

absl::Status QueueDispatcher::RunOnce() {
  absl::StatusOr<std::vector<QueueCommand>> batch =
      outbox_->Claim(options_.batch, clock_.Now(), std::chrono::duration_cast<std::chrono::microseconds>(options_.claim_for));
  if (!batch.ok()) return batch.status();
  const size_t n = batch->size();
  // Delivered in order: a run of consecutive enqueues in one call, each abort on its own. Nothing is sent after
  // a failure, so no command of this batch overtakes one that failed.
  std::vector<absl::Status> outcome(n, absl::CancelledError("not sent: deferred behind a failed command"));
  for (size_t i = 0; i < n;) {
    size_t end = i + 1;
    if ((*batch)[i].kind == QueueCommandKind::kEnqueue) {
      while (end < n && (*batch)[end].kind == QueueCommandKind::kEnqueue) ++end;
      std::vector<absl::Status> got = DeliverEnqueues(*batch, i, end);
      std::move(got.begin(), got.end(), outcome.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      outcome[i] = DeliverAbort((*batch)[i]);
    }
    const bool failed = std::any_of(outcome.begin() + static_cast<std::ptrdiff_t>(i),
                                    outcome.begin() + static_cast<std::ptrdiff_t>(end),
                                    [](const absl::Status& s) { return !s.ok(); });
    i = end;
    if (failed) break;
  }
  absl::Status first_failure;
  std::vector<int64_t> done, deferred;
  for (size_t i = 0; i < n; ++i) {
    const QueueCommand& c = (*batch)[i];
    if (!first_failure.ok()) {
      // Keep the order: nothing of this batch overtakes a command that failed (one sent after it in the same
      // call is sent again: harmless, queue-service's enqueue is idempotent).
      deferred.push_back(c.id);
      continue;
    }
    if (outcome[i].ok()) {
      done.push_back(c.id);
      continue;
    }
    failures_++;
    if (failures_counter_ != nullptr) failures_counter_->Increment();
    first_failure = outcome[i];
    (void)outbox_->Retry({c.id}, clock_.Now() + backoff_, first_failure.ToString());
    if (failures_logged_++ % 20 == 0) {
      FLYTE_LOG(kWarn, "queue dispatcher: {} failed (retrying every <= {}ms): {}", Describe(c),
                options_.max_backoff.count(), first_failure.ToString());
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

void QueueDispatcher::CountPending() {
  if (pending_gauge_ == nullptr) return;
  // One COUNT(*) per poll interval at most: a busy dispatcher passes here once per batch.
  const auto now = std::chrono::steady_clock::now();
  if (counted_at_ != std::chrono::steady_clock::time_point{} && now - counted_at_ < options_.poll_interval) return;
  counted_at_ = now;
  absl::StatusOr<int64_t> n = outbox_->Count();
  if (n.ok()) pending_gauge_->Set(static_cast<double>(*n));  // a database error keeps the last value
}

void QueueDispatcher::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    absl::Status s = RunOnce();
    CountPending();
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
