#include "flyte/app/shutdown.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <ctime>

#include "flyte/app/log.h"

namespace flyte::app {
namespace {

std::atomic<bool> g_requested{false};

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdown() {
  sigset_t set = ShutdownSignals();
  // A short timeout lets RequestShutdown() (a plain flag) wake us without signals aimed at this thread.
  const timespec tick{0, 100'000'000};
  while (!g_requested.load()) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) return sig;
  }
  g_requested = false;
  return 0;
}

void RequestShutdown() { g_requested = true; }

void ShutdownSequence::Add(std::string name, std::function<void()> step) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.emplace_back(std::move(name), std::move(step));
}

void ShutdownSequence::Run() {
  std::vector<std::pair<std::string, std::function<void()>>> steps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    done_ = true;
    steps.swap(steps_);
  }
  for (auto& [name, step] : steps) {
    auto start = std::chrono::steady_clock::now();
    step();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    FLYTE_LOG(kDebug, "shutdown: {} done in {} ms", name, ms.count());
  }
}

}  // namespace flyte::app
