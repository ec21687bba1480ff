#pragma once
// The warm Python pool: one zygote process per Python environment (interpreter + entrypoint script + the task
// environment without the attempt's identity variables) that has imported the flyte SDK's task runtime once and
// forks one child per attempt (python_zygote.py, embedded in the executor and written to `state_dir` at start).
//
// A child is set up as SpawnGroupLeader sets up a cold task: its own process group, exactly the attempt's
// environment, working directory, stdin /dev/null, stdout/stderr files (opened here and passed over the socket),
// the executor's rlimits, every other descriptor closed, signal mask empty, SIGKILL when its parent dies. Its parent
// is the zygote, whose own parent-death signal is tied to the supervisor thread: executor dies -> zygote dies ->
// task dies. The zygote keeps an exited child a zombie (so its pid and process group id cannot be reused) until the
// supervisor has killed what is left of the group and calls Release.
//
// Falls back (TrySpawn returns nullopt: spawn cold) when the command is not the SDK entrypoint, the environment's
// zygote is still importing, failed to import, has threads, or the pool is full of busy zygotes. A zygote that dies
// is restarted on the next attempt that needs it (after 3 failures in a row: not for 60 s); its children die with
// it (killed by SIGKILL, a retryable failure).
//
// Not thread-safe: owned and called by the ProcessSupervisor's thread only (its parent-death signal is that
// thread's). The zygotes' control sockets are registered in the supervisor's epoll set with tokens
// kZygoteTokenBit | n.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/process_supervisor.h"

namespace flyte::executor {

struct PythonPoolOptions {
  std::string state_dir;                               // the zygote script and logs; created on demand
  std::string entrypoint_marker = "flyte._bin.runtime";  // a script importing this is the SDK entrypoint
  std::vector<std::string> preload;                    // modules the zygote imports; empty = the SDK runtime's
  size_t max_zygotes = 4;
};

// What a zygote reported (or what its death means) for one warm child.
struct WarmExit {
  pid_t pid = 0;
  bool signaled = false;
  int code = 0;  // exit code or signal number
  bool zygote_died = false;  // the child was killed with its zygote; nothing to Release
};

// The interpreter and script of an SDK entrypoint command, or nullopt.
struct PythonEntrypoint {
  std::vector<std::string> interpreter;  // the script's #! line (with `env` resolved in the task's PATH)
  std::string script;
};
std::optional<PythonEntrypoint> FindPythonEntrypoint(const LaunchSpec& spec, const std::string& marker);

class PythonZygotePool {
 public:
  static constexpr uint64_t kZygoteTokenBit = uint64_t{1} << 63;

  PythonZygotePool(PythonPoolOptions options, int epoll_fd);
  ~PythonZygotePool();  // closes every socket; SIGKILLs and reaps every zygote (their children die with them)
  PythonZygotePool(const PythonZygotePool&) = delete;
  PythonZygotePool& operator=(const PythonZygotePool&) = delete;

  // nullopt: not for the pool, spawn cold. Otherwise the child's pid, or why it could not start (as
  // SpawnGroupLeader reports it).
  std::optional<absl::StatusOr<pid_t>> TrySpawn(const LaunchSpec& spec);
  // The zygote with this epoll token has something to say; its reports are queued for TakeExits.
  void OnReadable(uint64_t token);
  // Exits reported since the last call.
  std::vector<WarmExit> TakeExits();
  // The executor is done with the exited child `pid`: the zygote may reap it.
  void Release(pid_t pid);

  size_t ready_zygotes() const;
  std::vector<pid_t> zygote_pids() const;  // for tests

 private:
  struct Zygote;
  Zygote* Find(uint64_t token);
  Zygote* Start(const std::string& key, const PythonEntrypoint& entry, const std::vector<std::string>& env);
  void Read(Zygote& z, std::optional<int64_t> until_spawned, std::optional<absl::StatusOr<pid_t>>* reply);
  void Handle(Zygote& z, const std::string& message, std::optional<int64_t> spawn_id,
              std::optional<absl::StatusOr<pid_t>>* reply);
  void Bury(Zygote& z, const std::string& why);
  bool EvictIdle();

  PythonPoolOptions options_;
  int epoll_fd_;
  std::string script_path_;  // python_zygote.py as written to state_dir; "" when that failed
  uint64_t next_token_ = 1;
  int64_t next_spawn_ = 1;
  std::map<uint64_t, std::unique_ptr<Zygote>> zygotes_;
  struct KeyHealth {
    int failures = 0;
    std::chrono::steady_clock::time_point retry_at{};
  };
  std::map<std::string, KeyHealth> health_;
  std::map<pid_t, uint64_t> child_zygote_;  // warm child -> its zygote's token, until released
  std::vector<WarmExit> exits_;
};

}  // namespace flyte::executor
