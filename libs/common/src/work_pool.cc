#include "flyte/common/work_pool.h"

namespace flyte::common {

WorkPool::WorkPool(std::string name, size_t threads, size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Run(); });
}

WorkPool::~WorkPool() { Shutdown(); }

absl::Status WorkPool::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError(name_ + " is shutting down");
    if (jobs_.size() >= max_queued_) {
      return absl::ResourceExhaustedError(name_ + " queue is full (" + std::to_string(max_queued_) + " waiting)");
    }
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void WorkPool::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  workers_.clear();
}

size_t WorkPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

void WorkPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace flyte::common
