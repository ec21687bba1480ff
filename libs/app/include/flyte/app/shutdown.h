#pragma once
// SIGTERM/SIGINT handling and ordered shutdown.
//
// BlockShutdownSignals() must run first in main(), before any thread starts, so every thread inherits the mask
// and the signals are consumed only by WaitForShutdown() (never by a random thread mid-write).
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace flyte::app {

void BlockShutdownSignals();
// Blocks until SIGTERM or SIGINT arrives (returns its number) or RequestShutdown() is called (returns 0).
int WaitForShutdown();
// Wakes WaitForShutdown from any thread (e.g. a fatal error in a background loop). Async-signal-unsafe.
void RequestShutdown();

// Steps run once, in the order added (e.g. stop accepting -> drain requests -> stop workers -> close DB).
// Thread-safe; Run() is idempotent, a second call returns at once. Each step is logged with its duration.
class ShutdownSequence {
 public:
  ShutdownSequence() = default;
  ~ShutdownSequence() { Run(); }
  ShutdownSequence(const ShutdownSequence&) = delete;
  ShutdownSequence& operator=(const ShutdownSequence&) = delete;

  void Add(std::string name, std::function<void()> step);
  void Run();

 private:
  std::mutex mu_;
  bool done_ = false;
  std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

}  // namespace flyte::app
