#include "runtime/process_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flyte::executor {
namespace {

std::string FindInEnv(const std::vector<std::string>& env, std::string_view key) {
  for (const std::string& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
  }
  return {};
}

}  // namespace

std::string ResolveExecutable(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = FindInEnv(env, "PATH");
  if (path.empty()) {
    const char* own = getenv("PATH");
    path = own != nullptr ? own : "/usr/local/bin:/usr/bin:/bin";
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve reports ENOENT
}

namespace {

// The kernel's struct sigaction (not glibc's): the child resets dispositions with raw rt_sigaction calls, which
// also reach the signals glibc reserves for itself.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};
constexpr size_t kKernelSigsetSize = sizeof(uint64_t);

// Where the child got to when it gave up.
enum class ChildStage : int { kNone = 0, kDeathSignal, kParentGone, kProcessGroup, kStdio, kChdir, kExec };

// Everything the child needs, prepared before the clone. With CLONE_VM the child runs in the parent's memory on
// its own small stack: it must not allocate, take a lock, or touch anything but this plan and its stack.
struct ChildPlan {
  pid_t parent = 0;
  const char* exe = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // nullptr: the parent's
  int stdio[3] = {-1, -1, -1};
  int inherit_fd = -1;        // becomes the child's fd 3
  int max_fd = 0;             // for closing descriptors one by one when close_range is missing
  // Written by the child before it exits on failure. The parent reads them once clone returns: CLONE_VFORK holds
  // the calling thread until the child has exec'd (a new address space) or exited.
  int failed_stage = 0;
  int failed_errno = 0;
};

// The child makes raw system calls only. syscall(2) writes nothing but errno, which in the child is the
// suspended parent thread's. Every argument goes through as a long: syscall reads its varargs as longs, and an
// int passed there as such would leave the register's upper half undefined.
long Sys(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return syscall(number, a, b, c, d, e);
}
long Ptr(const void* p) { return reinterpret_cast<long>(p); }

[[noreturn]] void ChildFail(ChildPlan* plan, ChildStage stage, int error) {
  plan->failed_stage = static_cast<int>(stage);
  plan->failed_errno = error;
  while (true) Sys(SYS_exit_group, 127);
}

int ChildMain(void* arg) {
  ChildPlan* plan = static_cast<ChildPlan*>(arg);
  if (Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(plan, ChildStage::kDeathSignal, errno);
  // The executor may have died between the clone and the prctl: then nothing would ever kill this child.
  if (Sys(SYS_getppid) != plan->parent) ChildFail(plan, ChildStage::kParentGone, ESRCH);
  // A new process group so that Terminate reaches the whole tree.
  if (Sys(SYS_setpgid, 0, 0) != 0) ChildFail(plan, ChildStage::kProcessGroup, errno);
  // Signals stay blocked (as the parent blocked them across the clone) until no executor handler is left: one
  // running here would run on the executor's memory. Ignored signals are reset too, so tasks do not inherit them.
  KernelSigaction default_action{};
  default_action.handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    Sys(SYS_rt_sigaction, sig, Ptr(&default_action), 0, kKernelSigsetSize);
  }
  for (int target = 0; target < 3; ++target) {
    if (Sys(SYS_dup3, plan->stdio[target], target, 0) < 0) ChildFail(plan, ChildStage::kStdio, errno);
  }
  int first_closed = 3;
  if (plan->inherit_fd >= 0) {
    if (Sys(SYS_dup3, plan->inherit_fd, 3, 0) < 0) ChildFail(plan, ChildStage::kStdio, errno);
    first_closed = 4;
  }
  // Whatever else the executor has open without O_CLOEXEC (sockets, database files) is not the task's business.
  if (Sys(SYS_close_range, first_closed, ~0U, 0) != 0) {
    for (int fd = first_closed; fd < plan->max_fd; ++fd) Sys(SYS_close, fd);
  }
  if (plan->cwd != nullptr && Sys(SYS_chdir, Ptr(plan->cwd)) != 0) ChildFail(plan, ChildStage::kChdir, errno);
  const uint64_t no_signals = 0;
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, Ptr(&no_signals), 0, kKernelSigsetSize);
  Sys(SYS_execve, Ptr(plan->exe), Ptr(plan->argv), Ptr(plan->envp));
  ChildFail(plan, ChildStage::kExec, errno);
}

// One stack per spawning thread, mapped once and reused: when clone returns the child has exec'd or exited and is
// done with it. A guard page below catches an overflow instead of letting it write into other memory.
class ChildStack {
 public:
  static constexpr size_t kSize = 64 * 1024;

  ChildStack() {
    guard_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, guard_ + kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) return;
    if (mprotect(m, guard_, PROT_NONE) != 0) {
      munmap(m, guard_ + kSize);
      return;
    }
    base_ = static_cast<char*>(m);
  }
  ~ChildStack() {
    if (base_ != nullptr) munmap(base_, guard_ + kSize);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;

  // The highest address (stacks grow down), page aligned; nullptr if the mapping failed.
  void* top() const { return base_ == nullptr ? nullptr : base_ + guard_ + kSize; }

 private:
  char* base_ = nullptr;
  size_t guard_ = 0;
};

const char* StageWhat(ChildStage stage) {
  switch (stage) {
    case ChildStage::kNone: break;
    case ChildStage::kDeathSignal: return "parent-death signal: ";
    case ChildStage::kParentGone: return "executor exiting: ";
    case ChildStage::kProcessGroup: return "process group: ";
    case ChildStage::kStdio: return "redirecting stdio: ";
    case ChildStage::kChdir: return "working directory: ";
    case ChildStage::kExec: break;
  }
  return "";
}

}  // namespace

bool StdioFd::Open(const char* path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd >= 0 && fd < 3) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    fd = high;
  }
  return Adopt(fd);
}

bool StdioFd::Adopt(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return fd_ >= 0;
}

absl::Status StdioFds::Open(const LaunchSpec& spec) {
  const std::string& name = spec.argv.empty() ? std::string() : spec.argv[0];
  if (!fd[0].Open("/dev/null", O_RDONLY)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot start ", name, ": stdin /dev/null: ", strerror(errno)));
  }
  const char* out_path = spec.stdout_path.empty() ? "/dev/null" : spec.stdout_path.c_str();
  if (!fd[1].Open(out_path, O_WRONLY | O_CREAT | O_TRUNC)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot start ", name, ": stdout: ", strerror(errno)));
  }
  const char* err_path = spec.stderr_path.empty() ? "/dev/null" : spec.stderr_path.c_str();
  if (!fd[2].Open(err_path, O_WRONLY | O_CREAT | O_TRUNC)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot start ", name, ": stderr: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<pid_t> SpawnGroupLeader(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return absl::InvalidArgumentError("empty command");
  const std::string& name = spec.argv[0];
  const std::string exe = ResolveExecutable(name, spec.env);
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // Opened here rather than in the child: a slow or failing open costs the child nothing and reports plainly.
  StdioFds stdio;
  if (absl::Status opened = stdio.Open(spec); !opened.ok()) return opened;
  // dup3 onto 3 must never meet itself: an inherited descriptor is moved above it first.
  StdioFd inherit;
  if (spec.inherit_fd >= 0 && !inherit.Adopt(fcntl(spec.inherit_fd, F_DUPFD_CLOEXEC, 4))) {
    return absl::InternalError(absl::StrCat("cannot start ", name, ": dup: ", strerror(errno)));
  }

  thread_local ChildStack stack;
  if (stack.top() == nullptr) {
    return absl::InternalError(absl::StrCat("cannot start ", name, ": no memory for the child's stack"));
  }
  ChildPlan plan;
  plan.parent = getpid();
  plan.exe = exe.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  for (int i = 0; i < 3; ++i) plan.stdio[i] = stdio.fd[i].get();
  plan.inherit_fd = inherit.get();
  rlimit files{};
  plan.max_fd = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536 ? static_cast<int>(files.rlim_cur)
                                                                                 : 65536;

  // Every signal blocked across the clone -- with a raw rt_sigprocmask, since pthread_sigmask leaves glibc's own
  // signals open -- so that no handler runs in the child before it has reset them. It also binds syscall() before
  // the child calls it: lazy binding (the dynamic linker) must not run in the child.
  const uint64_t all_signals = ~uint64_t{0};
  uint64_t previous = 0;
  errno = 0;  // binds errno's accessor before the child needs it
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, Ptr(&all_signals), Ptr(&previous), kKernelSigsetSize);
  const pid_t child = clone(ChildMain, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  const int clone_errno = errno;
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, Ptr(&previous), 0, kKernelSigsetSize);
  if (child < 0) {
    return absl::InternalError(absl::StrCat("cannot start ", name, ": clone: ", strerror(clone_errno)));
  }
  if (plan.failed_stage != static_cast<int>(ChildStage::kNone)) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return absl::FailedPreconditionError(absl::StrCat("cannot start ", name, ": ",
                                                      StageWhat(static_cast<ChildStage>(plan.failed_stage)),
                                                      strerror(plan.failed_errno)));
  }
  return child;
}

}  // namespace flyte::executor
