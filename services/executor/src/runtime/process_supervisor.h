#pragma once
// Runs child processes, each in its own process group, with stdout/stderr sent to files.
//
// One supervisor thread watches every child through a pidfd in one epoll set, so hundreds of children cost one
// thread. At most `max_concurrent` children run at once; further launches wait in a FIFO and start as slots free.
//
// Thread-safe. Callbacks run on the supervisor thread, one at a time, never while an internal lock is held: they
// may call Launch/Terminate but must not block for long. For one launch, on_started (if it starts) comes before
// on_exit, and on_exit comes exactly once (unless the supervisor is destroyed first).
//
// When the group leader exits, whatever is left of its process group is SIGKILLed (as a container runtime tears
// down a pod), so a finished launch leaves no processes behind in its group.
//
// Children are started from the supervisor thread with PR_SET_PDEATHSIG = SIGKILL: if the executor dies (kill -9),
// every group leader dies with it (what the leader forked is cleaned up by the executor's journal on restart).
//
// Destruction SIGKILLs every running group, reaps the leaders and drops pending callbacks without calling them.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"

namespace flyte::executor {

struct PythonPoolOptions;
class PythonZygotePool;

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up in the child's PATH
  std::vector<std::string> env;   // "KEY=VALUE", the child's whole environment
  std::string cwd;                // empty: the supervisor's cwd
  std::string stdout_path;        // created/truncated; empty: /dev/null
  std::string stderr_path;
  std::chrono::milliseconds timeout{0};        // from spawn; 0 = none. Exceeded: SIGTERM group, then SIGKILL
  std::chrono::milliseconds timeout_grace{5000};
  int inherit_fd = -1;  // >= 0: passed to the child as its fd 3 (the warm pool's control socket)
};

struct ProcessExit {
  enum class Outcome { kExited, kSignaled, kNotStarted };
  Outcome outcome = Outcome::kNotStarted;
  int exit_code = 0;          // kExited
  int signal = 0;             // kSignaled
  absl::Status start_error;   // kNotStarted: spawn failure, or kCancelled when terminated while waiting
  bool timed_out = false;     // the launch's timeout fired
  bool terminated = false;    // Terminate() reached the process
  pid_t pid = 0;

  std::string Describe() const;  // "exited with code 3", "killed by signal 9 (Killed)", ...
};

struct LaunchCallbacks {
  std::function<void(pid_t pid)> on_started;
  std::function<void(const ProcessExit&)> on_exit;
};

class ProcessSupervisor {
 public:
  using LaunchId = uint64_t;

  struct Options {
    size_t max_concurrent = 16;  // >= 1
    // Set: SDK entrypoint commands start as forks of a warm Python zygote (python_zygote.h) when one is ready.
    std::shared_ptr<const PythonPoolOptions> python_pool;
  };

  explicit ProcessSupervisor(Options options);
  ~ProcessSupervisor();
  ProcessSupervisor(const ProcessSupervisor&) = delete;
  ProcessSupervisor& operator=(const ProcessSupervisor&) = delete;

  // Queues a launch; it starts when a slot is free. Never blocks on the child. Invalid specs and spawn failures
  // are reported through on_exit with Outcome::kNotStarted.
  LaunchId Launch(LaunchSpec spec, LaunchCallbacks callbacks);

  // Waiting launch: removed, on_exit(kNotStarted, kCancelled). Running: SIGTERM to its process group, SIGKILL
  // after `grace` if the leader is still there. kNotFound when the launch already finished (or never existed).
  absl::Status Terminate(LaunchId id, std::chrono::milliseconds grace);

  size_t running() const;
  size_t waiting() const;
  // Zygote pids of the warm Python pool (none without one); for tests.
  std::vector<pid_t> zygote_pids() const;

 private:
  struct Waiting {
    LaunchId id;
    LaunchSpec spec;
    LaunchCallbacks callbacks;
  };
  using Clock = std::chrono::steady_clock;
  struct Running {
    pid_t pid = 0;
    int pidfd = -1;      // -1 for a warm child: its zygote reports its exit
    bool warm = false;   // forked by a zygote, which reaps it
    LaunchCallbacks callbacks;
    Clock::time_point timeout_at = Clock::time_point::max();
    std::chrono::milliseconds timeout_grace{0};
    Clock::time_point kill_at = Clock::time_point::max();
    bool timed_out = false;
    bool terminated = false;
  };
  using Deliver = std::function<void()>;

  void Loop();
  void Wake();
  // All three run with mu_ held and append the callbacks to run after unlocking.
  void StartWaitingLocked(std::vector<Deliver>& out);
  void ReapLocked(LaunchId id, std::vector<Deliver>& out);
  void ReapWarmLocked(std::vector<Deliver>& out);
  void FinishLocked(LaunchId id, ProcessExit exit, std::vector<Deliver>& out);
  Clock::time_point FireDeadlinesLocked(Clock::time_point now);

  Options options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  mutable std::mutex mu_;
  bool stopping_ = false;
  LaunchId next_id_ = 1;
  std::deque<Waiting> waiting_;
  std::unordered_map<LaunchId, Running> running_;
  std::vector<Deliver> cancelled_;  // on_exit of launches terminated while waiting
  std::unique_ptr<PythonZygotePool> pool_;  // used on the supervisor thread only (and under mu_)
};

}  // namespace flyte::executor
