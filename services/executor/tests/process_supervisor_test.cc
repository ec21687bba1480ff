#include "runtime/process_supervisor.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>

#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {

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

ProcessExit RunToExit(ProcessSupervisor& sup, LaunchSpec spec) {
  std::promise<ProcessExit> done;
  sup.Launch(std::move(spec), LaunchCallbacks{nullptr, [&](const ProcessExit& e) { done.set_value(e); }});
  auto f = done.get_future();
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  return f.get();
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
