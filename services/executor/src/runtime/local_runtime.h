#pragma once
// The executor's runtime on one machine: actions in (from the queue client), transitions out (to the state
// reporter). Owns the process supervisor and one AttemptRunner per active action; a runner is dropped as soon as
// its final transition has been delivered, so memory does not grow with the number of completed actions.
//
// Thread-safe. The transition callback runs on the thread calling Submit (INITIALIZING, early failures) or on the
// supervisor thread (everything else), one call at a time per action; it must not block for long and must not
// destroy the runtime. Destruction kills every running process group without reporting further transitions.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "flyte/common/clock.h"
#include "runtime/action.h"
#include "runtime/attempt_layout.h"
#include "runtime/attempt_runner.h"
#include "runtime/process_supervisor.h"
#include "runtime/task_environment.h"

namespace flyte::executor {

struct LocalRuntimeOptions {
  std::string data_root;        // absolute local directory; created on demand
  size_t max_concurrent = 16;   // processes running at once; more wait in FIFO order
  TaskEnvironmentOptions env;
  std::chrono::milliseconds abort_grace{5000};
  std::chrono::milliseconds timeout_grace{5000};
  // SDK entrypoint tasks fork from a warm Python zygote (python_zygote.h); its files go to
  // <data_root>/.executor/python-pool.
  bool warm_python = true;
  const common::Clock* clock = &common::Clock::System();
};

class LocalRuntime {
 public:
  LocalRuntime(LocalRuntimeOptions options, TransitionCallback on_transition);
  ~LocalRuntime();
  LocalRuntime(const LocalRuntime&) = delete;
  LocalRuntime& operator=(const LocalRuntime&) = delete;

  // kAlreadyExists while the same action is still active (a re-delivered lease); otherwise OK and the action's
  // transitions follow through the callback.
  absl::Status Submit(ActionToRun action);
  // kNotFound when the action is not active (never submitted or already final).
  absl::Status Abort(const ActionKey& key, std::string reason);
  // Like Abort, but SIGKILLs the process group at once (no grace): for work this executor no longer owns.
  absl::Status Kill(const ActionKey& key, std::string reason);

  size_t active() const;
  ProcessSupervisor& supervisor() { return *supervisor_; }

 private:
  void Deliver(const ActionTransition& t);

  const LocalRuntimeOptions options_;
  const TransitionCallback on_transition_;
  AttemptLayout layout_;
  mutable std::mutex mu_;
  std::map<ActionKey, std::shared_ptr<AttemptRunner>> active_;
  std::unique_ptr<ProcessSupervisor> supervisor_;
};

}  // namespace flyte::executor
