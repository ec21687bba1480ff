#pragma once
// The phase machine of one action run as local child processes:
//
//   INITIALIZING (attempt dirs created) -> RUNNING (process started) -> SUCCEEDED | FAILED | TIMED_OUT | ABORTED
//
// A FAILED or TIMED_OUT attempt whose error is retryable, with retries left (attempt <= max retries), is reported
// (final=false) and followed by attempt+1 from INITIALIZING. error.pb in the output prefix means FAILED even when
// the process exits 0; its ContainerError.kind RECOVERABLE makes it retryable, NON_RECOVERABLE does not.
// A non-zero exit or an unexpected signal is a retryable FAILED; a process that cannot be started is not retried.
//
// Thread-safety: Start once, Abort from any thread at any time. Transitions are delivered one at a time and in
// order: INITIALIZING (and an early terminal) on the thread calling Start, everything later on the supervisor's
// thread, so the callback must not block for long. The last transition has final=true.
// Ownership: callbacks handed to the supervisor hold a shared_ptr, so a runner lives until its process exits.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "flyte/common/clock.h"
#include "runtime/action.h"
#include "runtime/attempt_layout.h"
#include "runtime/process_supervisor.h"
#include "runtime/task_environment.h"

namespace flyte::executor {

struct RunnerContext {
  ProcessSupervisor* supervisor = nullptr;  // not owned; outlives the runner's processes
  const AttemptLayout* layout = nullptr;    // not owned
  TaskEnvironmentOptions env;
  const common::Clock* clock = &common::Clock::System();
  std::chrono::milliseconds abort_grace{5000};    // SIGTERM -> SIGKILL on Abort
  std::chrono::milliseconds timeout_grace{5000};  // SIGTERM -> SIGKILL on timeout
  size_t stderr_tail_bytes = 2048;                // how much of stderr a FAILED message carries
};

using TransitionCallback = std::function<void(const ActionTransition&)>;

class AttemptRunner : public std::enable_shared_from_this<AttemptRunner> {
 public:
  static std::shared_ptr<AttemptRunner> Create(ActionToRun action, RunnerContext context,
                                               TransitionCallback on_transition);

  void Start();
  // Idempotent. Running process: SIGTERM to its group, SIGKILL after abort_grace, then ABORTED. Waiting for a
  // slot or between attempts: ABORTED without a process. No effect once the final transition was sent.
  // `grace` overrides abort_grace (0: SIGKILL at once, e.g. a lost lease).
  void Abort(std::string reason, std::optional<std::chrono::milliseconds> grace = std::nullopt);

  const ActionKey& key() const { return action_.key; }

 private:
  AttemptRunner(ActionToRun action, RunnerContext context, TransitionCallback on_transition);

  void RunAttempt(int attempt);
  void OnStarted(int attempt, pid_t pid);
  void OnExit(int attempt, const ProcessExit& exit);
  ActionTransition Make(int attempt, Phase phase) const;
  void Report(ActionTransition t);

  const ActionToRun action_;
  const RunnerContext context_;
  const TransitionCallback on_transition_;

  // Parsed from the task by Start.
  std::vector<std::string> command_;  // container command + args, unsubstituted
  EnvList container_env_;
  int max_retries_ = 0;
  std::chrono::milliseconds timeout_{0};

  std::mutex mu_;
  AttemptPaths paths_;  // of the current attempt
  ProcessSupervisor::LaunchId launch_id_ = 0;
  bool aborted_ = false;
  std::string abort_reason_;
  bool done_ = false;
};

}  // namespace flyte::executor
