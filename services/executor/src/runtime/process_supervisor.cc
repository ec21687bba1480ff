#include "runtime/process_supervisor.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "runtime/process_spawn.h"
#include "runtime/python_zygote.h"

namespace flyte::executor {
namespace {

// Marks the wake eventfd in the epoll set; launch ids start at 1.
constexpr uint64_t kWakeToken = 0;

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

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
  if (options_.python_pool) pool_ = std::make_unique<PythonZygotePool>(*options_.python_pool, epoll_fd_);
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
    if (r.warm) continue;  // its zygote reaps it; the zygote is killed with the pool below
    int status = 0;
    waitpid(r.pid, &status, 0);
    close(r.pidfd);
  }
  running_.clear();
  pool_.reset();
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

std::vector<pid_t> ProcessSupervisor::zygote_pids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pool_ ? pool_->zygote_pids() : std::vector<pid_t>{};
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
    // Spawned from this thread, which lives as long as the supervisor: PR_SET_PDEATHSIG fires when the thread
    // that started a child exits, not when the process does. The same holds for the pool's zygotes.
    std::optional<absl::StatusOr<pid_t>> warm = pool_ ? pool_->TrySpawn(w.spec) : std::nullopt;
    absl::StatusOr<pid_t> spawned = warm ? std::move(*warm) : SpawnGroupLeader(w.spec);
    absl::Status s = spawned.status();
    const pid_t pid = spawned.ok() ? *spawned : 0;
    int pidfd = s.ok() && !warm ? PidfdOpen(pid) : -1;
    if (s.ok() && pidfd < 0 && !warm) {
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
    if (!warm) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = w.id;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &ev);
    }
    Running r;
    r.pid = pid;
    r.pidfd = pidfd;
    r.warm = warm.has_value();
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
  FinishLocked(id, std::move(exit), out);
}

void ProcessSupervisor::ReapWarmLocked(std::vector<Deliver>& out) {
  if (!pool_) return;
  for (const WarmExit& e : pool_->TakeExits()) {
    auto it = std::find_if(running_.begin(), running_.end(),
                           [&e](const auto& kv) { return kv.second.warm && kv.second.pid == e.pid; });
    // The leader is a zombie its zygote holds until Release, so the group id is still ours to kill.
    kill(-e.pid, SIGKILL);
    if (!e.zygote_died) pool_->Release(e.pid);
    if (it == running_.end()) continue;
    ProcessExit exit;
    exit.outcome = e.signaled ? ProcessExit::Outcome::kSignaled : ProcessExit::Outcome::kExited;
    (e.signaled ? exit.signal : exit.exit_code) = e.code;
    FinishLocked(it->first, std::move(exit), out);
  }
}

void ProcessSupervisor::FinishLocked(LaunchId id, ProcessExit exit, std::vector<Deliver>& out) {
  auto it = running_.find(id);
  Running& r = it->second;
  exit.pid = r.pid;
  exit.timed_out = r.timed_out;
  exit.terminated = r.terminated;
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
      ReapWarmLocked(deliver);  // a zygote that died while asked to spawn takes its children with it
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
        if (pool_ && (events[i].data.u64 & PythonZygotePool::kZygoteTokenBit) != 0) {
          pool_->OnReadable(events[i].data.u64);
          continue;
        }
        ReapLocked(events[i].data.u64, exits);
      }
      ReapWarmLocked(exits);
    }
    for (Deliver& d : exits) d();
  }
}

}  // namespace flyte::executor
