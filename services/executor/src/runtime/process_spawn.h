#pragma once
// Starts one task process as the leader of its own process group: the low-level half of ProcessSupervisor.
//
// vfork-style (clone with CLONE_VM | CLONE_VFORK, as glibc's posix_spawn does): the child borrows the caller's
// memory until it execs, so starting a task costs no copy of the executor's page tables and no copy-on-write
// faults afterwards. posix_spawn itself cannot be used: the child must also ask for PR_SET_PDEATHSIG.
//
// The child gets: PR_SET_PDEATHSIG = SIGKILL (it dies when the *calling thread* exits, so call this from a
// long-lived thread), its own process group, every signal disposition reset to default and an empty signal mask,
// stdin /dev/null, stdout/stderr redirected to spec's files (created/truncated), no other descriptors, spec.cwd,
// spec.env as its whole environment, argv[0] looked up in spec.env's PATH.
//
// Thread-safe (each calling thread has its own child stack). Errors, all with the reason in the message
// ("cannot start /x: No such file or directory"): kInvalidArgument for an empty command, kFailedPrecondition when
// the command cannot be started (missing or non-executable binary, unwritable output file, missing cwd) and
// kInternal when the system refuses (clone, out of memory). On error no child is left behind.
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/process_supervisor.h"

namespace flyte::executor {

// The child's pid (= its process group id). The caller reaps it.
absl::StatusOr<pid_t> SpawnGroupLeader(const LaunchSpec& spec);

// `name` as execve would find it in env's PATH (the supervisor's PATH when env has none); unchanged when it holds
// a '/' or is found nowhere.
std::string ResolveExecutable(const std::string& name, const std::vector<std::string>& env);

// A descriptor for a child's stdin/stdout/stderr, opened by the parent. Always >= 3, so that dup3 onto 0-2 in
// the child never meets itself; close-on-exec, so that no other child started meanwhile inherits it.
class StdioFd {
 public:
  StdioFd() = default;
  ~StdioFd() { Adopt(-1); }
  StdioFd(const StdioFd&) = delete;
  StdioFd& operator=(const StdioFd&) = delete;

  bool Open(const char* path, int flags);  // false with errno set
  bool Adopt(int fd);                      // takes ownership; false when fd < 0
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// stdin /dev/null, stdout and stderr created/truncated at spec's paths (/dev/null when empty).
struct StdioFds {
  StdioFd fd[3];
  absl::Status Open(const LaunchSpec& spec);  // kFailedPrecondition "cannot start <argv0>: stdout: <why>"
};

}  // namespace flyte::executor
