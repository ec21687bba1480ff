#include "service/executor.h"

#include <signal.h>

#include <algorithm>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "flyte/metrics/registry.h"

namespace flyte::executor {

struct Executor::Metrics {
  explicit Metrics(metrics::Registry& r)
      : actions(prometheus::BuildCounter()
                    .Name("flyte_executor_actions_total")
                    .Help("Phase transitions reported by this executor, by phase")
                    .Register(r.prometheus())),
        running(prometheus::BuildGauge()
                    .Name("flyte_executor_running_processes")
                    .Help("Task processes running now")
                    .Register(r.prometheus())
                    .Add({})),
        to_running(prometheus::BuildHistogram()
                       .Name("flyte_executor_enqueue_to_running_seconds")
                       .Help("From the action's enqueue (the lease's enqueued_at; else its arrival here) to its first process running")
                       .Register(r.prometheus())
                       .Add({}, metrics::Registry::LatencyBuckets())),
        to_terminal(prometheus::BuildHistogram()
                        .Name("flyte_executor_running_to_terminal_seconds")
                        .Help("From an attempt's process starting to the attempt's terminal phase")
                        .Register(r.prometheus())
                        .Add({}, metrics::Registry::LatencyBuckets())) {}

  prometheus::Counter& Phase(Phase p) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_phase.find(p);
    if (it == by_phase.end()) it = by_phase.emplace(p, &actions.Add({{"phase", PhaseName(p)}})).first;
    return *it->second;
  }

  prometheus::Family<prometheus::Counter>& actions;
  prometheus::Gauge& running;
  prometheus::Histogram& to_running;
  prometheus::Histogram& to_terminal;
  std::mutex mu;
  std::map<executor::Phase, prometheus::Counter*> by_phase;
};

namespace {

// Most leases Completed in one call (queue-service takes up to 1000).
constexpr size_t kMaxCompletionsPerCall = 500;
// The finish thread waits this long for more leases to Complete with the first one, unless kFinishBatch are due.
constexpr std::chrono::milliseconds kFinishLinger{5};
constexpr size_t kFinishBatch = 32;

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool LostByExecutor(const std::string& code) { return code == kExecutorLostCode || code == kExecutorRestartedCode; }

}  // namespace

Executor::Executor(ExecutorOptions options, LeaseClient& leases, StateClient& state, StateReporter& reporter,
                   Journal& journal, metrics::Registry* metrics, CacheClient* cache,
                   SecretClient* secrets)
    : options_(std::move(options)), leases_(leases), state_(state), reporter_(reporter), journal_(journal) {
  if (metrics != nullptr) metrics_ = std::make_unique<Metrics>(*metrics);
  secrets_ = secrets;
  runtime_ = std::make_unique<LocalRuntime>(options_.runtime, [this](const ActionTransition& t) { OnTransition(t); });
  if (cache != nullptr) {
    TaskCacheOptions cache_options;
    cache_options.data_root = options_.runtime.data_root;
    cache_options.default_org = options_.runtime.env.default_org;
    cache_options.reservation_heartbeat = options_.cache_reservation_heartbeat;
    cache_options.wait_poll = options_.cache_wait_poll;
    cache_options.clock = options_.runtime.clock;
    cache_ = std::make_unique<TaskCache>(
        *cache, cache_options, [this](ActionToRun a) { SubmitToRuntime(std::move(a)); },
        [this](const ActionTransition& t) { Deliver(t); });
  }
}

Executor::~Executor() { Shutdown(); }

size_t Executor::held_leases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

size_t Executor::running_processes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::max(0, running_));
}

size_t Executor::FreeSlotsLocked() const {
  // A lease whose action has ended (final transition out) holds no process any more; it waits only for its final
  // report and Complete, so it does not keep new work out. Those leases are bounded too (another max_concurrent),
  // so a runs-service or queue-service that stops answering stops this executor from taking more.
  const size_t max = options_.runtime.max_concurrent;
  size_t busy = 0;
  for (const auto& [id, h] : held_) busy += h.final_seen ? 0 : 1;
  if (busy >= max || held_.size() >= 2 * max) return 0;
  return std::min(max - busy, 2 * max - held_.size());
}

absl::Status Executor::Start() {
  if (acquire_thread_.joinable() || shut_down_) return absl::FailedPreconditionError("executor already started");
  // Recovery runs on the acquire thread, so a runs-service that is down delays taking work, not the process start
  // (readiness says so meanwhile).
  acquire_thread_ = std::thread([this] {
    absl::Status s = Recover();
    if (!s.ok()) {
      FLYTE_LOG(kWarn, "journal recovery stopped: {}", s.ToString());
      return;
    }
    started_ = true;
    FLYTE_LOG(kInfo, "executor {} taking work (at most {} processes, data root {})", leases_.executor_id(),
              options_.runtime.max_concurrent, options_.runtime.data_root);
    AcquireLoop();
  });
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  abort_thread_ = std::thread([this] { AbortWatchLoop(); });
  finish_thread_ = std::thread([this] { FinishLoop(); });
  return absl::OkStatus();
}

absl::Status Executor::Recover() {
  std::vector<JournalEntry> entries = journal_.Entries();
  if (entries.empty()) return absl::OkStatus();
  FLYTE_LOG(kWarn, "journal lists {} lease(s) of a previous run of this executor: recovering", entries.size());
  const common::Clock& clock = *options_.runtime.clock;
  std::vector<JournalEntry> to_release;
  for (const JournalEntry& e : entries) {
    if (e.final_phase != Phase::kUnspecified) {
      // The final state is recorded; only the Complete may be missing.
      absl::Status c = leases_.Complete(e.lease_id, e.final_phase);
      FLYTE_LOG(kInfo, "completed lease {} of {} ({}) left by the previous run: {}", e.lease_id, e.key.ToString(),
                PhaseName(e.final_phase), c.ToString());
      (void)journal_.Remove(e.lease_id);
      continue;
    }
    if (e.pgid > 1) {
      // The leader died with the executor (PR_SET_PDEATHSIG); whatever it forked may still be there.
      int rc = kill(-e.pgid, SIGKILL);
      FLYTE_LOG(kWarn, "killed process group {} of {} attempt {} left by the previous run ({})", e.pgid,
                e.key.ToString(), e.attempt, rc == 0 ? "was alive" : "already gone");
    }
    if (e.attempt > 0) {
      ActionTransition t;
      t.key = e.key;
      t.attempt = e.attempt;
      t.phase = Phase::kFailed;
      t.time = clock.Now();
      t.error = ActionError{kExecutorRestartedCode,
                            absl::StrCat("executor restarted while attempt ", e.attempt, " was underway"),
                            ErrorKind::kSystem, true};
      t.cluster_event = absl::StrCat("executor restarted; attempt ", e.attempt, " stopped",
                                     e.pgid > 1 ? absl::StrCat(" (process group ", e.pgid, " killed)") : "");
      t.final = true;
      Report(e.parent_action_name, std::move(t));
    }
    to_release.push_back(e);
  }
  // The FAILED reports must be recorded before the leases come back, or the next attempt's INITIALIZING would
  // follow a RUNNING and be refused.
  while (!reporter_.Flush(std::chrono::seconds(1))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::CancelledError("shut down during recovery");
  }
  for (const JournalEntry& e : to_release) {
    absl::Status r = leases_.Release(e.lease_id);
    if (!r.ok()) FLYTE_LOG(kInfo, "release of lease {} from the previous run: {}", e.lease_id, r.ToString());
    (void)journal_.Remove(e.lease_id);
  }
  return absl::OkStatus();
}

void Executor::AcquireLoop() {
  int failures = 0;
  while (true) {
    uint32_t want = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      capacity_cv_.wait(lock, [this] { return stopping_ || FreeSlotsLocked() > 0; });
      if (stopping_) return;
      want = static_cast<uint32_t>(std::min<size_t>(options_.lease_batch, FreeSlotsLocked()));
    }
    absl::StatusOr<std::vector<Lease>> got = leases_.Acquire(std::max<uint32_t>(want, 1), options_.acquire_wait);
    if (!got.ok()) {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      // Back off up to 10 retry_backoffs while queue-service stays away; log the first failure and every 20th.
      std::chrono::milliseconds wait = options_.retry_backoff * std::min(10, 1 << std::min(failures, 4));
      if (failures % 20 == 0) {
        FLYTE_LOG(kWarn, "acquire from queue-service failed ({} in a row), retrying in {}ms: {}", failures + 1,
                  wait.count(), got.status().ToString());
      }
      ++failures;
      cv_.wait_for(lock, wait, [this] { return stopping_; });
      continue;
    }
    if (failures > 0) FLYTE_LOG(kInfo, "queue-service reachable again after {} failed acquires", failures);
    failures = 0;
    for (Lease& lease : *got) {
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stopping_;
      }
      if (stopping) {
        (void)leases_.Release(lease.id);
        continue;
      }
      StartLease(std::move(lease));
    }
  }
}

absl::StatusOr<RecordedState> Executor::ReadState(const ActionKey& key) {
  absl::Status last;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<RecordedState> s = state_.Get(key);
    if (s.ok() || !StateReporter::IsRetryable(s.status())) return s;
    last = s.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << i));
  }
  return last;
}

void Executor::StartLease(Lease lease) {
  const common::Clock& clock = *options_.runtime.clock;
  if (!lease.decode_error.empty()) {
    FLYTE_LOG(kError, "lease {}: cannot run the enqueued action: {}", lease.id, lease.decode_error);
    (void)leases_.Complete(lease.id, Phase::kFailed);
    return;
  }
  const ActionKey key = lease.action.key;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (by_action_.count(key) > 0) {
      // An earlier lease of the same action is still winding down here (lost, its process being killed).
      lock.unlock();
      FLYTE_LOG(kInfo, "lease {}: {} is still stopping here under an earlier lease; giving it back", lease.id,
                key.ToString());
      (void)leases_.Release(lease.id);
      return;
    }
    Held h;
    h.lease_id = lease.id;
    h.key = key;
    h.parent_action_name = lease.action.parent_action_name;
    h.expires_at = lease.expires_at;
    h.abort_requested = lease.abort_requested;
    h.abort_reason = lease.abort_reason;
    h.received = std::chrono::steady_clock::now();
    // enqueue_to_running starts at the real enqueue time when the lease carries it (wall clocks of two hosts:
    // a negative age from clock skew counts as zero).
    if (lease.enqueued_at != common::TimePoint{}) {
      const auto age = clock.Now() - lease.enqueued_at;
      if (age > common::TimePoint::duration::zero()) {
        h.received -= std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
      }
    }
    held_.emplace(lease.id, h);
    by_action_[key] = lease.id;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lease.expires_at - clock.Now());
    if (left.count() > 0) lease_duration_ = left;
  }

  // Which attempt is this? What runs-service recorded decides (one more than any attempt reported). Only when it
  // cannot be read does the delivery count stand in: it is at least the number of earlier hand-outs.
  int next = 1;
  // On a first hand-out no executor has reported an attempt yet (QUEUED, attempt 0, as enqueued), so the read is
  // skipped: one call less per action. Later deliveries follow a lost lease or a restart and read what is there.
  // (An action enqueued again after queue-service purged its finished entry would run again; runs-service then
  // refuses its reports, since the recorded action is terminal.)
  absl::StatusOr<RecordedState> recorded =
      lease.delivery <= 1 ? absl::StatusOr<RecordedState>(RecordedState{Phase::kQueued, 0, ""}) : ReadState(key);
  if (recorded.ok()) {
    const RecordedState& r = *recorded;
    if (IsTerminal(r.phase) && !LostByExecutor(r.error_code)) {
      FLYTE_LOG(kInfo, "lease {}: {} already ended {} (attempt {}); completing the lease", lease.id, key.ToString(),
                PhaseName(r.phase), r.attempt);
      {
        std::lock_guard<std::mutex> lock(mu_);
        held_[lease.id].final_seen = true;
      }
      Finish({Completion{lease.id, r.phase}});
      return;
    }
    if (IsTerminal(r.phase)) {
      next = r.attempt + 1;
    } else if (r.phase == Phase::kQueued || r.phase == Phase::kUnspecified) {
      next = std::max(1, r.attempt);
    } else {
      // An attempt was underway under an executor that lost the lease: close it so a new one may start.
      ActionTransition t;
      t.key = key;
      t.attempt = std::max(1, r.attempt);
      t.phase = Phase::kFailed;
      t.time = clock.Now();
      t.error = ActionError{kExecutorLostCode,
                            absl::StrCat("the executor running attempt ", t.attempt, " lost its lease"),
                            ErrorKind::kSystem, true};
      t.cluster_event = absl::StrCat("attempt ", t.attempt, " abandoned: its executor lost the lease (delivery ",
                                     lease.delivery, ")");
      t.retry_follows = true;  // attempt n+1 starts right below
      Report(lease.action.parent_action_name, std::move(t));
      next = std::max(1, r.attempt) + 1;
    }
  } else if (recorded.status().code() != absl::StatusCode::kNotFound) {
    next = static_cast<int>(lease.delivery);
    FLYTE_LOG(kWarn, "lease {}: cannot read the recorded state of {} ({}); starting at attempt {} (delivery)",
              lease.id, key.ToString(), recorded.status().ToString(), next);
  }
  const int attempt = std::max(1, next);

  bool abort_now = false;
  std::string abort_reason;
  {
    std::unique_lock<std::mutex> lock(mu_);
    Held& h = held_[lease.id];
    if (h.fenced) {
      lock.unlock();
      Forget(lease.id);
      return;
    }
    h.attempt = attempt;
    abort_now = h.abort_requested;
    abort_reason = h.abort_reason;
    if (abort_now) {
      h.final_seen = true;
      h.abort_sent = true;
    } else {
      h.submitted = true;
    }
  }
  if (abort_now) {
    // Aborted while queued: nothing runs; record ABORTED, then Complete.
    ActionTransition t;
    t.key = key;
    t.attempt = recorded.ok() ? std::max(1, recorded->attempt) : 1;
    t.phase = Phase::kAborted;
    t.time = clock.Now();
    t.error = ActionError{"Aborted", abort_reason.empty() ? "aborted" : abort_reason, ErrorKind::kUser, false};
    t.cluster_event = absl::StrCat("aborted before start: ", t.error->message);
    t.final = true;
    const std::string id = lease.id;
    Report(lease.action.parent_action_name, std::move(t), [this, id](const absl::Status& s) {
      if (s.code() != absl::StatusCode::kCancelled) QueueFinish(id, Phase::kAborted);
    });
    return;
  }
  lease.action.attempt = attempt;
  SubmitAction(std::move(lease.action));
}

void Executor::Report(const std::string& parent, ActionTransition t, StateReporter::Done done) {
  if (metrics_) metrics_->Phase(t.phase).Increment();
  reporter_.Report(StateReport{std::move(t), parent}, std::move(done));
}

void Executor::Deliver(const ActionTransition& t) {
  std::string lease_id;
  std::string parent;
  bool fenced = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto a = by_action_.find(t.key);
    if (a == by_action_.end()) return;
    lease_id = a->second;
    Held& h = held_[lease_id];
    parent = h.parent_action_name;
    fenced = h.fenced;
    if (fenced && IsTerminal(t.phase) && h.running_since != std::chrono::steady_clock::time_point{}) {
      --running_;
      h.running_since = {};
      if (metrics_) metrics_->running.Set(static_cast<double>(running_));
    }
    if (!fenced) {
      const auto now = std::chrono::steady_clock::now();
      h.attempt = t.attempt;
      if (t.phase == Phase::kRunning) {
        ++running_;
        if (!h.ever_running && metrics_) metrics_->to_running.Observe(Seconds(now - h.received));
        h.ever_running = true;
        h.running_since = now;
      } else if (IsTerminal(t.phase) && h.running_since != std::chrono::steady_clock::time_point{}) {
        --running_;
        if (metrics_) metrics_->to_terminal.Observe(Seconds(now - h.running_since));
        h.running_since = {};
      }
      if (t.final) {
        h.final_seen = true;
        capacity_cv_.notify_one();  // its process is gone: the acquire thread may take more work
      }
      if (metrics_) metrics_->running.Set(static_cast<double>(running_));
      JournalEntry e{lease_id, t.key, parent, t.attempt, t.phase == Phase::kRunning ? t.pid : 0,
                     Phase::kUnspecified};
      absl::Status js = journal_.Put(e);
      if (!js.ok()) FLYTE_LOG(kError, "journal: {}", js.ToString());
    }
  }
  if (fenced) {
    // Not ours any more: another executor reports this action now.
    if (t.final) Forget(lease_id);
    return;
  }
  if (!t.final) {
    Report(parent, t);
    return;
  }
  const Phase phase = t.phase;
  Report(parent, t, [this, lease_id, phase](const absl::Status& s) {
    if (s.code() != absl::StatusCode::kCancelled) QueueFinish(lease_id, phase);
  });
}

void Executor::QueueFinish(const std::string& lease_id, Phase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  finishing_.push_back(Completion{lease_id, phase});
  // The finish thread waits for the first lease, then lingers for more until kFinishBatch are due: wake it only
  // then, not once per lease.
  if (finishing_.size() == 1 || finishing_.size() == kFinishBatch) finish_cv_.notify_all();
}

void Executor::FinishLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    finish_cv_.wait(lock, [this] { return finish_stop_ || !finishing_.empty(); });
    if (finishing_.empty()) return;  // stopping, and nothing left to Complete
    // A lease waiting here holds no process slot (see FreeSlotsLocked), so a short linger costs no throughput and
    // lets leases that end close together share one call and one queue-service commit.
    finish_cv_.wait_for(lock, kFinishLinger, [this] {
      return finish_stop_ || stopping_ || finishing_.size() >= kFinishBatch;
    });
    // Every lease whose final report went through meanwhile goes in one call (one queue-service transaction).
    std::vector<Completion> batch;
    while (!finishing_.empty() && batch.size() < kMaxCompletionsPerCall) {
      batch.push_back(std::move(finishing_.front()));
      finishing_.pop_front();
    }
    ++finishing_active_;
    lock.unlock();
    Finish(std::move(batch));
    lock.lock();
    --finishing_active_;
    finish_cv_.notify_all();
  }
}

void Executor::Finish(std::vector<Completion> completions) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(completions, [this](const Completion& c) { return held_.count(c.lease_id) == 0; });
    for (const Completion& c : completions) {
      const Held& h = held_.at(c.lease_id);
      if (h.fenced) continue;
      JournalEntry e{c.lease_id, h.key, h.parent_action_name, h.attempt, 0, c.final_phase};
      (void)journal_.Put(e);
    }
  }
  std::vector<Completion> pending = completions;
  std::chrono::milliseconds backoff(100);
  for (int i = 0; i < 8 && !pending.empty(); ++i) {
    if (i > 0) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    absl::StatusOr<std::vector<absl::Status>> got = leases_.CompleteBatch(pending);
    if (got.ok() && got->size() != pending.size()) got = absl::InternalError("complete: outcome count mismatch");
    if (!got.ok()) {
      if (!StateReporter::IsRetryable(got.status())) {
        FLYTE_LOG(kWarn, "complete {} lease(s): {}; leaving them to expire", pending.size(),
                  got.status().ToString());
        break;
      }
      FLYTE_LOG(kWarn, "complete {} lease(s) failed, retrying: {}", pending.size(), got.status().ToString());
      continue;
    }
    std::vector<Completion> again;
    for (size_t k = 0; k < pending.size(); ++k) {
      const absl::Status& c = (*got)[k];
      if (c.ok()) continue;
      if (!StateReporter::IsRetryable(c)) {
        FLYTE_LOG(kWarn, "complete lease {}: {} (the lease was lost; the next holder will find the action ended)",
                  pending[k].lease_id, c.ToString());
        continue;
      }
      FLYTE_LOG(kWarn, "complete lease {} failed, retrying: {}", pending[k].lease_id, c.ToString());
      again.push_back(std::move(pending[k]));
    }
    pending = std::move(again);
  }
  for (const Completion& c : completions) Forget(c.lease_id);
}

void Executor::Forget(const std::string& lease_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(lease_id);
    if (it == held_.end()) return;
    if (cache_) cache_->Forget(it->second.key);
    auto a = by_action_.find(it->second.key);
    if (a != by_action_.end() && a->second == lease_id) by_action_.erase(a);
    held_.erase(it);
    capacity_cv_.notify_one();
  }
  (void)journal_.Remove(lease_id);
}

void Executor::Shutdown() {
  if (shut_down_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    capacity_cv_.notify_all();
  }
  leases_.CancelAcquire();
  leases_.CancelWatchAborts();
  if (acquire_thread_.joinable()) acquire_thread_.join();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  if (abort_thread_.joinable()) abort_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, h] : held_) {
      if (!h.final_seen) h.fenced = true;
    }
  }
  // The task cache first: it submits to the runtime and delivers transitions from its own thread.
  if (cache_) cache_->Shutdown();
  // Kills every process group; no transition is delivered after this.
  {
    std::unique_ptr<LocalRuntime> runtime;
    {
      std::lock_guard<std::mutex> lock(mu_);
      runtime = std::move(runtime_);
    }
    runtime.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = 0;
    for (auto& [id, h] : held_) h.running_since = {};
  }
  if (metrics_) metrics_->running.Set(0);
  // Final reports already out get their chance to be recorded and Completed.
  const auto flush_until = std::chrono::steady_clock::now() + options_.shutdown_flush;
  reporter_.Flush(options_.shutdown_flush);
  {
    std::unique_lock<std::mutex> lock(mu_);
    finish_cv_.wait_until(lock, flush_until, [this] { return finishing_.empty() && finishing_active_ == 0; });
    finish_stop_ = true;
    finishing_.clear();  // not Completed in time: Released below with the rest
    finish_cv_.notify_all();
  }
  if (finish_thread_.joinable()) finish_thread_.join();
  std::vector<std::string> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, h] : held_) left.push_back(id);
  }
  for (const std::string& id : left) {
    absl::Status r = leases_.Release(id);
    FLYTE_LOG(kInfo, "released lease {} on shutdown: {}", id, r.ToString());
    Forget(id);
  }
}

}  // namespace flyte::executor
