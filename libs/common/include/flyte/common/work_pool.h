#pragma once
// A fixed set of worker threads with a bounded queue, for blocking work (database calls) that must never run on
// gRPC's or asio's threads.
//
// Thread-safe. Submit never blocks: when the queue is full it returns kResourceExhausted and the caller answers
// the client with that status. Shutdown() runs what is queued, then joins; Submit after Shutdown is kUnavailable.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace flyte::common {

class WorkPool {
 public:
  WorkPool(std::string name, size_t threads, size_t max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  absl::Status Submit(std::function<void()> job);
  void Shutdown();
  size_t queued() const;
  size_t threads() const { return workers_.size(); }

 private:
  void Run();

  const std::string name_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace flyte::common
