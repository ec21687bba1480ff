#include "runtime/process_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "support/runtime_testing.h"
#include "support/supervisor_testing.h"

namespace flyte::executor {
namespace {

using testing::RunToExit;
using testing::TempDir;
using namespace std::chrono_literals;

LaunchSpec Sh(const std::string& script, const TempDir& dir) {
  LaunchSpec s;
  s.argv = {"/bin/sh", "-c", script};
  s.env = {"PATH=/usr/bin:/bin"};
  s.cwd = dir.path();
  s.stdout_path = dir / "out.log";
  s.stderr_path = dir / "err.log";
  return s;
}

TEST_CASE("exit codes, signals, cwd and output redirection", "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 4});

  ProcessExit ok = RunToExit(sup, Sh("echo hello; echo oops >&2; pwd > where", dir));
  CHECK(ok.outcome == ProcessExit::Outcome::kExited);
  CHECK(ok.exit_code == 0);
  CHECK(testing::ReadFile(dir / "out.log") == "hello\n");
  CHECK(testing::ReadFile(dir / "err.log") == "oops\n");
  CHECK(testing::ReadFile(dir / "where") == dir.path() + "\n");

  ProcessExit code = RunToExit(sup, Sh("exit 7", dir));
  CHECK(code.outcome == ProcessExit::Outcome::kExited);
  CHECK(code.exit_code == 7);
  CHECK(code.Describe() == "exited with code 7");

  ProcessExit sig = RunToExit(sup, Sh("kill -9 $$", dir));
  CHECK(sig.outcome == ProcessExit::Outcome::kSignaled);
  CHECK(sig.signal == SIGKILL);

  // argv[0] without a slash is looked up in the child's PATH.
  LaunchSpec bare = Sh("", dir);
  bare.argv = {"true"};
  CHECK(RunToExit(sup, bare).exit_code == 0);
}

TEST_CASE("a command that cannot start is reported, not thrown", "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 1});
  LaunchSpec spec = Sh("", dir);
  spec.argv = {"/nonexistent/binary"};
  ProcessExit e = RunToExit(sup, spec);
  CHECK(e.outcome == ProcessExit::Outcome::kNotStarted);
  CHECK_FALSE(e.start_error.ok());
  spec.argv = {};
  CHECK(RunToExit(sup, spec).start_error.code() == absl::StatusCode::kInvalidArgument);
  CHECK(sup.running() == 0);
}

TEST_CASE("why a command cannot start is reported with the system's reason, and no child is left",
          "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 1});
  auto start_error = [&](LaunchSpec spec) {
    ProcessExit e = RunToExit(sup, std::move(spec));
    CHECK(e.outcome == ProcessExit::Outcome::kNotStarted);
    return std::string(e.start_error.message());
  };
  LaunchSpec spec = Sh("", dir);

  spec.argv = {"/nonexistent/binary"};
  CHECK(start_error(spec) == "cannot start /nonexistent/binary: No such file or directory");
  spec.argv = {"no-such-command-anywhere"};  // looked up in the task's PATH
  CHECK(start_error(spec) == "cannot start no-such-command-anywhere: No such file or directory");
  {
    std::ofstream(dir / "not-executable") << "#!/bin/sh\ntrue\n";
    spec.argv = {dir / "not-executable"};
    CHECK(start_error(spec) == "cannot start " + (dir / "not-executable") + ": Permission denied");
  }
  {
    std::ofstream(dir / "garbage") << "neither a script nor a binary\n";
    std::filesystem::permissions(dir / "garbage", std::filesystem::perms::owner_all);
    spec.argv = {dir / "garbage"};
    CHECK(start_error(spec) == "cannot start " + (dir / "garbage") + ": Exec format error");
  }
  spec.argv = {"/bin/true"};
  spec.cwd = dir / "missing";
  CHECK(start_error(spec) == "cannot start /bin/true: working directory: No such file or directory");
  spec.cwd = dir.path();
  spec.stdout_path = dir / "missing/out.log";
  CHECK(start_error(spec) == "cannot start /bin/true: stdout: No such file or directory");
  CHECK_FALSE(std::filesystem::exists(dir / "missing"));

  // The children that failed to exec were reaped: this process has no child left, zombie or not.
  int status = 0;
  CHECK(waitpid(-1, &status, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("a task starts with default signal handling, only stdio open, in its own process group",
          "[executor][supervisor]") {
  TempDir dir;
  // What the executor might have that a task must not inherit: an ignored and a blocked signal (the supervisor
  // thread inherits the mask of the thread that creates it), a descriptor without O_CLOEXEC.
  struct sigaction ignore {}, previous_action{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGUSR2, &ignore, &previous_action);
  sigset_t usr1, previous_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &previous_mask);
  const int inherited = open("/dev/null", O_RDONLY);
  REQUIRE(inherited >= 3);
  {
    ProcessSupervisor sup({.max_concurrent = 1});
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    LaunchSpec status = Sh("", dir);
    status.argv = {"/bin/cat", "/proc/self/status"};
    REQUIRE(RunToExit(sup, status).exit_code == 0);
    std::string text = testing::ReadFile(dir / "out.log");
    CHECK(text.find("SigBlk:\t0000000000000000\n") != std::string::npos);
    CHECK(text.find("SigIgn:\t0000000000000000\n") != std::string::npos);

    LaunchSpec fds = Sh("", dir);
    fds.argv = {"/bin/ls", "/proc/self/fd"};
    REQUIRE(RunToExit(sup, fds).exit_code == 0);
    CHECK(testing::ReadFile(dir / "out.log") == "0\n1\n2\n3\n");  // 3: the directory ls is reading

    LaunchSpec stat = Sh("", dir);
    stat.argv = {"/bin/cat", "/proc/self/stat"};
    ProcessExit e = RunToExit(sup, stat);
    REQUIRE(e.exit_code == 0);
    // "pid (cat) S ppid pgrp ..."
    std::istringstream fields(testing::ReadFile(dir / "out.log"));
    std::string pid, comm, state, ppid, pgrp;
    fields >> pid >> comm >> state >> ppid >> pgrp;
    CHECK(pid == std::to_string(e.pid));
    CHECK(pgrp == pid);
    CHECK(ppid == std::to_string(getpid()));
  }
  close(inherited);
  sigaction(SIGUSR2, &previous_action, nullptr);
}

TEST_CASE("a task dies with the process that supervises it (kill -9)", "[executor][supervisor]") {
  TempDir dir;
  // The supervising process is a fork of this one, killed below; this test process has one thread here, so
  // the fork can safely start a supervisor.
  pid_t supervising = fork();
  if (supervising == 0) {
    ProcessSupervisor sup({.max_concurrent = 1});
    sup.Launch(Sh("echo $$ > task.pid; exec sleep 30", dir), {});
    while (true) pause();
  }
  REQUIRE(supervising > 0);
  REQUIRE(testing::WaitForFile(dir / "task.pid"));
  pid_t task = testing::ReadPid(dir / "task.pid");
  REQUIRE(testing::IsAlive(task));
  kill(supervising, SIGKILL);
  int status = 0;
  waitpid(supervising, &status, 0);
  auto until = std::chrono::steady_clock::now() + 5s;
  while (testing::IsAlive(task) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(testing::IsAlive(task));
  kill(task, SIGKILL);  // in case it survived
}

TEST_CASE("never more than max_concurrent processes alive; the rest wait in order", "[executor][supervisor]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "alive");
  ProcessSupervisor sup({.max_concurrent = 2});
  constexpr int kLaunches = 6;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> start_order;
  int exited = 0;
  for (int i = 0; i < kLaunches; ++i) {
    // Each child marks itself alive in a directory the test watches from outside.
    LaunchSpec s = Sh("touch alive/$$; sleep 0.3; rm alive/$$", dir);
    sup.Launch(std::move(s), LaunchCallbacks{[&, i](pid_t) {
                                               std::lock_guard<std::mutex> l(mu);
                                               start_order.push_back(i);
                                             },
                                             [&](const ProcessExit& e) {
                                               std::lock_guard<std::mutex> l(mu);
                                               CHECK(e.exit_code == 0);
                                               ++exited;
                                               cv.notify_all();
                                             }});
  }
  CHECK(sup.waiting() + sup.running() <= static_cast<size_t>(kLaunches));
  size_t max_alive = 0;
  size_t max_running = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (exited == kLaunches) break;
    }
    size_t alive = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir / "alive")) ++alive;
    max_alive = std::max(max_alive, alive);
    max_running = std::max(max_running, sup.running());
    std::this_thread::sleep_for(5ms);
  }
  INFO("max alive " << max_alive << ", max running " << max_running);
  CHECK(max_alive <= 2);
  CHECK(max_running <= 2);
  CHECK(max_alive == 2);  // the limit is reached, not just respected by running one at a time
  CHECK(start_order == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("terminate escalates to SIGKILL for a group that ignores SIGTERM", "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 2});
  std::promise<pid_t> started;
  std::promise<ProcessExit> done;
  // `trap '' TERM` is inherited by the background sleep, so only SIGKILL ends either of them.
  auto id = sup.Launch(Sh("trap '' TERM; sleep 30 & echo $! > bg.pid; wait; wait", dir),
                       LaunchCallbacks{[&](pid_t p) { started.set_value(p); },
                                       [&](const ProcessExit& e) { done.set_value(e); }});
  pid_t leader = started.get_future().get();
  REQUIRE(testing::WaitForFile(dir / "bg.pid"));
  pid_t bg = testing::ReadPid(dir / "bg.pid");
  REQUIRE(testing::IsAlive(bg));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(sup.Terminate(id, 300ms).ok());
  auto f = done.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  ProcessExit e = f.get();
  CHECK(std::chrono::steady_clock::now() - t0 >= 290ms);
  CHECK(e.terminated);
  CHECK(e.outcome == ProcessExit::Outcome::kSignaled);
  CHECK(e.signal == SIGKILL);
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(testing::IsAlive(leader));
  CHECK_FALSE(testing::IsAlive(bg));
  CHECK(testing::LiveGroupMembers(leader) == 0);
  CHECK(sup.Terminate(id, 0ms).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("terminating a waiting launch cancels it without starting it", "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 1});
  std::promise<ProcessExit> first_done;
  auto first = sup.Launch(Sh("sleep 30", dir), LaunchCallbacks{nullptr, [&](const ProcessExit& e) {
                                                                 first_done.set_value(e);
                                                               }});
  std::atomic<bool> second_started{false};
  std::promise<ProcessExit> second_done;
  auto second = sup.Launch(Sh("touch second-ran", dir),
                           LaunchCallbacks{[&](pid_t) { second_started = true; },
                                           [&](const ProcessExit& e) { second_done.set_value(e); }});
  std::this_thread::sleep_for(50ms);
  CHECK(sup.waiting() == 1);
  REQUIRE(sup.Terminate(second, 0ms).ok());
  ProcessExit e = second_done.get_future().get();
  CHECK(e.outcome == ProcessExit::Outcome::kNotStarted);
  CHECK(e.start_error.code() == absl::StatusCode::kCancelled);
  REQUIRE(sup.Terminate(first, 1s).ok());
  CHECK(first_done.get_future().get().signal == SIGTERM);
  CHECK_FALSE(second_started);
  CHECK_FALSE(std::filesystem::exists(dir / "second-ran"));
}

TEST_CASE("hundreds of children are watched by one thread", "[executor][supervisor]") {
  TempDir dir;
  ProcessSupervisor sup({.max_concurrent = 300});
  constexpr int kChildren = 300;
  std::atomic<int> exited{0};
  std::promise<void> all;
  for (int i = 0; i < kChildren; ++i) {
    LaunchSpec s = Sh("sleep 0.5", dir);
    s.stdout_path = s.stderr_path = "";
    sup.Launch(std::move(s), LaunchCallbacks{nullptr, [&](const ProcessExit& e) {
                                               if (e.exit_code == 0 && ++exited == kChildren) all.set_value();
                                             }});
  }
  auto f = all.get_future();
  REQUIRE(f.wait_for(60s) == std::future_status::ready);
  int threads = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++threads;
  INFO("threads in the test process: " << threads);
  CHECK(threads <= 4);
  CHECK(exited == kChildren);
}

}  // namespace
}  // namespace flyte::executor
