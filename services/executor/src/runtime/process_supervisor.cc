#include "runtime/process_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flyte::executor {
namespace {

// Marks the wake eventfd in the epoll set; launch ids start at 1.
constexpr uint64_t kWakeToken = 0;

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string FindInEnv(const std::vector<std::string>& env, std::string_view key) {
  for (const std::string& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
  }
  return {};
}

// execvp would search the supervisor's PATH; the task's PATH is the one that matters.
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

// Where the child got to before exec failed; reported through the CLOEXEC pipe with errno.
enum class SpawnStage : int { kOpenStdin = 1, kOpenStdout, kOpenStderr, kChdir, kExec, kParentGone };

struct SpawnFailure {
  int stage = 0;
  int error = 0;
};

[[noreturn]] void ChildFail(int fd, SpawnStage stage) {
  SpawnFailure f{static_cast<int>(stage), errno};
  ssize_t n = write(fd, &f, sizeof(f));
  (void)n;
  _exit(127);
}

void CloseFrom(int lowest, int keep) {
  // close_range(2) when the kernel has it; otherwise a bounded loop over the descriptor table.
  if (keep > lowest) {
    if (syscall(SYS_close_range, lowest, keep - 1, 0) != 0) {
      for (int fd = lowest; fd < keep; ++fd) close(fd);
    }
  }
  if (syscall(SYS_close_range, keep + 1, ~0U, 0) != 0) {
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = keep + 1; fd < max; ++fd) close(fd);
  }
}

// fork + exec rather than posix_spawn: the child must ask for PR_SET_PDEATHSIG (SIGKILL when the supervisor
// thread, and so the executor, dies), which posix_spawn cannot express. Between fork and exec the child only makes
// async-signal-safe system calls on memory prepared before the fork.
absl::Status Spawn(const LaunchSpec& spec, pid_t* pid) {
  if (spec.argv.empty() || spec.argv[0].empty()) return absl::InvalidArgumentError("empty command");
  const std::string exe = ResolveExecutable(spec.argv[0], spec.env);

  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string out = spec.stdout_path.empty() ? std::string("/dev/null") : spec.stdout_path;
  const std::string err = spec.stderr_path.empty() ? std::string("/dev/null") : spec.stderr_path;
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();

  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", spec.argv[0], ": pipe: ", strerror(errno)));
  }
  // Every signal blocked across fork, so no handler of the executor runs in the child before dispositions are
  // reset; the parent thread gets its mask back right after.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    const int fd = status_pipe[1];
    close(status_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) ChildFail(fd, SpawnStage::kParentGone);  // the executor died before prctl
    // A new process group so that Terminate reaches the whole tree.
    setpgid(0, 0);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      signal(sig, SIG_DFL);
    }
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0) ChildFail(fd, SpawnStage::kOpenStdin);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || dup2(o, 1) < 0) ChildFail(fd, SpawnStage::kOpenStdout);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (e < 0 || dup2(e, 2) < 0) ChildFail(fd, SpawnStage::kOpenStderr);
    // Whatever else the executor has open (sockets, database files) is not the task's business.
    CloseFrom(3, fd);
    if (cwd != nullptr && chdir(cwd) != 0) ChildFail(fd, SpawnStage::kChdir);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(exe.c_str(), argv.data(), envp.data());
    ChildFail(fd, SpawnStage::kExec);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(status_pipe[1]);
  if (child < 0) {
    close(status_pipe[0]);
    return absl::FailedPreconditionError(absl::StrCat("cannot start ", spec.argv[0], ": fork: ",
                                                      strerror(fork_errno)));
  }
  SpawnFailure failure;
  ssize_t n;
  do {
    n = read(status_pipe[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    const char* what = "";
    switch (static_cast<SpawnStage>(failure.stage)) {
      case SpawnStage::kOpenStdin: what = "stdin /dev/null: "; break;
      case SpawnStage::kOpenStdout: what = "stdout: "; break;
      case SpawnStage::kOpenStderr: what = "stderr: "; break;
      case SpawnStage::kChdir: what = "working directory: "; break;
      case SpawnStage::kExec: break;
      case SpawnStage::kParentGone: what = "executor exiting: "; break;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", spec.argv[0], ": ", what, strerror(failure.error)));
  }
  *pid = child;
  return absl::OkStatus();
}

}  // namespace

std::string ProcessExit::Describe() const {
  switch (outcome) {
    case Outcome::kExited:
      return absl::StrCat("exited with code ", exit_code);
    case Outcome::kSignaled:
      return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
    case Outcome::kNotStarted:
      return absl::StrCat("not started: ", start_error.message());
  }
  return "unknown";
}

ProcessSupervisor::ProcessSupervisor(Options options) : options_(options) {
  if (options_.max_concurrent == 0) options_.max_concurrent = 1;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Loop(); });
}

ProcessSupervisor::~ProcessSupervisor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  for (auto& [id, r] : running_) {
    kill(-r.pid, SIGKILL);
    int status = 0;
    waitpid(r.pid, &status, 0);
    close(r.pidfd);
  }
  running_.clear();
  waiting_.clear();
  cancelled_.clear();
  close(wake_fd_);
  close(epoll_fd_);
}

ProcessSupervisor::LaunchId ProcessSupervisor::Launch(LaunchSpec spec, LaunchCallbacks callbacks) {
  LaunchId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    if (stopping_) return id;  // callbacks dropped, as documented for destruction
    waiting_.push_back(Waiting{id, std::move(spec), std::move(callbacks)});
  }
  Wake();
  return id;
}

absl::Status ProcessSupervisor::Terminate(LaunchId id, std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(id);
    if (it != running_.end()) {
      Running& r = it->second;
      // The leader is not reaped while it is in running_, so its pid (= the group id) cannot have been reused.
      if (!r.terminated) {
        r.terminated = true;
        kill(-r.pid, SIGTERM);
      }
      // A later, shorter grace (a lost lease after an abort) brings the SIGKILL forward.
      r.kill_at = std::min(r.kill_at, Clock::now() + grace);
    } else {
      auto w = std::find_if(waiting_.begin(), waiting_.end(), [id](const Waiting& x) { return x.id == id; });
      if (w == waiting_.end()) return absl::NotFoundError(absl::StrCat("launch ", id, " is not active"));
      auto on_exit = std::move(w->callbacks.on_exit);
      waiting_.erase(w);
      cancelled_.push_back([on_exit = std::move(on_exit)] {
        ProcessExit exit;
        exit.outcome = ProcessExit::Outcome::kNotStarted;
        exit.start_error = absl::CancelledError("terminated before it started");
        exit.terminated = true;
        if (on_exit) on_exit(exit);
      });
    }
  }
  Wake();  // a new kill deadline may be the nearest one
  return absl::OkStatus();
}

size_t ProcessSupervisor::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_.size();
}

size_t ProcessSupervisor::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

void ProcessSupervisor::Wake() {
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;  // EAGAIN means a wake-up is already pending
}

void ProcessSupervisor::StartWaitingLocked(std::vector<Deliver>& out) {
  while (!waiting_.empty() && running_.size() < options_.max_concurrent) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    pid_t pid = 0;
    absl::Status s = Spawn(w.spec, &pid);
    int pidfd = s.ok() ? PidfdOpen(pid) : -1;
    if (s.ok() && pidfd < 0) {
      // Without a pidfd we cannot watch it; do not leave it running unobserved.
      s = absl::InternalError(absl::StrCat("pidfd_open: ", strerror(errno)));
      kill(-pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
    }
    if (!s.ok()) {
      out.push_back([on_exit = std::move(w.callbacks.on_exit), s] {
        ProcessExit exit;
        exit.outcome = ProcessExit::Outcome::kNotStarted;
        exit.start_error = s;
        if (on_exit) on_exit(exit);
      });
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = w.id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &ev);
    Running r;
    r.pid = pid;
    r.pidfd = pidfd;
    if (w.spec.timeout.count() > 0) r.timeout_at = Clock::now() + w.spec.timeout;
    r.timeout_grace = w.spec.timeout_grace;
    auto on_started = w.callbacks.on_started;
    r.callbacks = std::move(w.callbacks);
    running_.emplace(w.id, std::move(r));
    if (on_started) out.push_back([on_started = std::move(on_started), pid] { on_started(pid); });
  }
}

void ProcessSupervisor::ReapLocked(LaunchId id, std::vector<Deliver>& out) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  Running& r = it->second;
  // Peek first: while the leader is an unreaped zombie its pid, and so the group id, cannot be reused, which makes
  // it safe to tear down what it left behind in its group (background jobs, daemons it forked) before reaping.
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(r.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0) {
    return;  // not exited yet: spurious readiness
  }
  kill(-r.pid, SIGKILL);
  int status = 0;
  pid_t got;
  do {
    got = waitpid(r.pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  ProcessExit exit;
  exit.pid = r.pid;
  exit.timed_out = r.timed_out;
  exit.terminated = r.terminated;
  if (got < 0) {
    // Someone else reaped our child (waitpid(-1) elsewhere in the process): the exit status is lost.
    exit.outcome = ProcessExit::Outcome::kSignaled;
    exit.signal = 0;
  } else if (WIFEXITED(status)) {
    exit.outcome = ProcessExit::Outcome::kExited;
    exit.exit_code = WEXITSTATUS(status);
  } else {
    exit.outcome = ProcessExit::Outcome::kSignaled;
    exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, r.pidfd, nullptr);
  close(r.pidfd);
  auto on_exit = std::move(r.callbacks.on_exit);
  running_.erase(it);
  out.push_back([on_exit = std::move(on_exit), exit] {
    if (on_exit) on_exit(exit);
  });
}

ProcessSupervisor::Clock::time_point ProcessSupervisor::FireDeadlinesLocked(Clock::time_point now) {
  Clock::time_point next = Clock::time_point::max();
  for (auto& [id, r] : running_) {
    if (r.timeout_at <= now) {
      r.timeout_at = Clock::time_point::max();
      if (!r.terminated) {
        r.timed_out = true;
        r.terminated = true;
        kill(-r.pid, SIGTERM);
        r.kill_at = std::min(r.kill_at, now + r.timeout_grace);
      }
    }
    if (r.kill_at <= now) {
      r.kill_at = Clock::time_point::max();
      kill(-r.pid, SIGKILL);
    }
    next = std::min({next, r.timeout_at, r.kill_at});
  }
  return next;
}

void ProcessSupervisor::Loop() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (true) {
    std::vector<Deliver> deliver;
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      StartWaitingLocked(deliver);
      for (Deliver& d : cancelled_) deliver.push_back(std::move(d));
      cancelled_.clear();
      Clock::time_point now = Clock::now();
      Clock::time_point next = FireDeadlinesLocked(now);
      if (next != Clock::time_point::max()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
        timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
      }
    }
    for (Deliver& d : deliver) d();
    // Callbacks may have queued launches or terminations: look again before sleeping.
    if (!deliver.empty()) timeout_ms = 0;

    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) {
      perror("executor: epoll_wait");
      continue;
    }
    std::vector<Deliver> exits;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kWakeToken) {
          uint64_t drained;
          while (read(wake_fd_, &drained, sizeof(drained)) > 0) {
          }
          continue;
        }
        ReapLocked(events[i].data.u64, exits);
      }
    }
    for (Deliver& d : exits) d();
  }
}

}  // namespace flyte::executor
