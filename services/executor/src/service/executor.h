#pragma once
// The executor: takes leases from queue-service, runs each leased action with the LocalRuntime and reports every
// transition to runs-service; the lease is Completed only once the final state is recorded.
//
//   acquire thread:   Acquire (long-poll) while fewer than max_concurrent held leases have an action still going
//                     (and fewer than 2 x max_concurrent are held at all, counting ended ones awaiting their
//                     final report and Complete) -> StartLease:
//                     on a redelivery, StateService.Get decides the attempt number (an earlier executor's
//                     interrupted attempt is first reported FAILED "ExecutorLost", so the phase machine accepts
//                     the next INITIALIZING; an action already finished is just Completed) -> LocalRuntime.Submit
//   (cached tasks:    the TaskCache looks up first on its own thread: a hit is reported SUCCEEDED without a
//                     process; a miss runs as below and its outputs are recorded before the final report)
//   runtime thread:   each transition -> journal (attempt, process group) -> StateReporter (ordered, retried,
//                     batched)
//   finish thread:    final -> after the report went through: LeaseClient.CompleteBatch (every lease whose final
//                     report went through meanwhile, in one call)
//   abort thread:     keeps LeaseService.WatchAborts open (reopened with backoff); a pushed abort of a held lease
//                     -> LocalRuntime.Abort at once (SIGTERM to the process group)
//   heartbeat thread: every lease duration / 3 renews all held leases; abort_requested -> LocalRuntime.Abort
//                     (the fallback when the stream is down or the abort went through another queue replica);
//                     a lost lease (or one whose expiry passed without renewal) -> SIGKILL its process group at once
//                     and forget it without reporting or Completing (self-fencing: another executor owns it now)
//
// Crash safety: Start() first reads the journal of a previous life on this data root, SIGKILLs the process
// groups that survived it, reports their attempts FAILED ("ExecutorRestarted"), Releases those leases (so they
// come back at once) and Completes leases whose final state was already recorded.
//
// Thread-safe. Construct, Start once, Shutdown (also run by the destructor).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "clients/cache_client.h"
#include "clients/lease_client.h"
#include "clients/secret_client.h"
#include "clients/state_client.h"
#include "clients/state_reporter.h"
#include "runtime/local_runtime.h"
#include "service/journal.h"
#include "service/task_cache.h"

namespace flyte::metrics {
class Registry;
}

namespace flyte::executor {

// Error codes of attempts that ended because their executor went away; an attempt recorded with one of these is
// followed by a new attempt rather than taken as the action's outcome.
inline constexpr char kExecutorLostCode[] = "ExecutorLost";
inline constexpr char kExecutorRestartedCode[] = "ExecutorRestarted";

struct ExecutorOptions {
  LocalRuntimeOptions runtime;                      // data_root, max_concurrent (also bounds leases), env...
  uint32_t lease_batch = 10;                        // most leases asked for per Acquire
  std::chrono::milliseconds acquire_wait{10000};    // long-poll wait per Acquire
  std::chrono::milliseconds heartbeat_interval{0};  // 0: a third of the lease duration seen on grants
  std::chrono::milliseconds retry_backoff{500};     // after a failed Acquire or Heartbeat
  std::chrono::milliseconds shutdown_flush{3000};   // how long Shutdown waits for final reports to go through
  std::chrono::milliseconds cache_reservation_heartbeat{5000};  // serialized cached tasks (TaskCacheOptions)
  std::chrono::milliseconds cache_wait_poll{1000};
};

class Executor {
 public:
  // All references must outlive the executor. `metrics` may be null. `cache` null: task output caching is off
  // (cached tasks run every time and report CACHE_DISABLED). `secrets` null: a task declaring secrets fails
  // (SecretsUnavailable) instead of running without them.
  Executor(ExecutorOptions options, LeaseClient& leases, StateClient& state, StateReporter& reporter,
           Journal& journal, metrics::Registry* metrics, CacheClient* cache = nullptr,
           SecretClient* secrets = nullptr);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Starts the heartbeat thread and the acquire thread, which first recovers the previous life's journal (see
  // above; it waits for its FAILED reports, retried while runs-service is down) and then takes work; started()
  // turns true in between. kFailedPrecondition when called twice.
  absl::Status Start();
  // Stops taking work, SIGKILLs running processes, waits up to shutdown_flush for final reports (and their
  // Completes), Releases every lease still held. Idempotent.
  void Shutdown();

  size_t held_leases() const;
  size_t running_processes() const;
  bool started() const { return started_.load(); }  // journal recovered, taking work
  bool abort_stream_live() const { return abort_stream_live_.load(); }  // queue-service's abort stream is open

 private:
  struct Held {
    std::string lease_id;
    ActionKey key;
    std::string parent_action_name;
    common::TimePoint expires_at{};
    int attempt = 0;
    bool submitted = false;
    bool abort_requested = false;  // from the grant or a heartbeat
    std::string abort_reason;
    bool abort_sent = false;
    bool fenced = false;        // lost: kill, never report or Complete
    bool final_seen = false;    // final transition out; waiting for its report and Complete
    std::chrono::steady_clock::time_point received{};
    std::chrono::steady_clock::time_point running_since{};
    bool ever_running = false;
  };
  struct Metrics;

  absl::Status Recover();
  // How many more leases the acquire thread may take now.
  size_t FreeSlotsLocked() const;
  void AcquireLoop();
  void HeartbeatLoop();
  // Keeps queue-service's abort stream open (reopened with backoff while it is down): a pushed abort stops its
  // process at once instead of at the next heartbeat.
  void AbortWatchLoop();
  // Under mu_: records an abort request (`requested`, with its reason); true when the lease's process must be
  // stopped now (and marks it so: once per lease).
  bool AbortDueLocked(Held& h, bool requested, const std::string& reason);
  // LocalRuntime::Abort of the lease's action; if the runtime does not have it yet, leaves it due again.
  void StopAborted(const std::string& lease_id, const std::string& reason);
  void StartLease(Lease lease);
  // StateService.Get with a few quick retries; kNotFound when the action is unknown to runs-service.
  absl::StatusOr<RecordedState> ReadState(const ActionKey& key);
  void OnTransition(const ActionTransition& t);
  // OnTransition after the task cache: journal, metrics, report, Complete.
  void Deliver(const ActionTransition& t);
  // The task cache when the task is cached (it submits later, or never on a hit), else the runtime.
  void SubmitAction(ActionToRun action);
  // LocalRuntime::Submit; a refusal gives the lease back.
  void SubmitToRuntime(ActionToRun action);
  // Fills action.secrets with the values of the task's declared secrets, or action.secrets_error with why not
  // (service/executor_secrets.cc).
  void ResolveSecrets(ActionToRun& action);
  // After the final reports: Complete (one call for the lot, retried while queue-service is away), forget.
  void Finish(std::vector<Completion> completions);
  void QueueFinish(const std::string& lease_id, Phase phase);  // Finish on the finish thread (from callbacks)
  void FinishLoop();
  void Fence(const std::string& lease_id, const std::string& why);
  void Forget(const std::string& lease_id);
  void Report(const std::string& parent, ActionTransition t, StateReporter::Done done = nullptr);

  const ExecutorOptions options_;
  LeaseClient& leases_;
  StateClient& state_;
  StateReporter& reporter_;
  Journal& journal_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<LocalRuntime> runtime_;
  std::unique_ptr<TaskCache> cache_;  // null when caching is off
  SecretClient* secrets_ = nullptr;   // null: declared secrets cannot be resolved

  mutable std::mutex mu_;
  std::condition_variable cv_;           // stopping (heartbeat thread, acquire backoff)
  std::condition_variable capacity_cv_;  // a process slot freed (acquire thread), or stopping
  bool stopping_ = false;
  std::map<std::string, Held> held_;            // by lease id
  std::map<ActionKey, std::string> by_action_;  // action -> lease id
  std::chrono::milliseconds lease_duration_{0};  // last seen on a grant
  int running_ = 0;                              // attempts between RUNNING and their terminal phase

  std::atomic<bool> started_{false};
  std::atomic<bool> shut_down_{false};
  std::thread acquire_thread_;
  std::thread heartbeat_thread_;
  std::thread abort_thread_;
  std::atomic<bool> abort_stream_live_{false};
  // Leases whose final report went through, to Complete on the finish thread (the reporter's callbacks must not
  // block on queue-service).
  std::condition_variable finish_cv_;
  std::deque<Completion> finishing_;
  int finishing_active_ = 0;
  bool finish_stop_ = false;
  std::thread finish_thread_;
};

}  // namespace flyte::executor
