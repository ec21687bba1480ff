#include "grpc_write_pump.h"

namespace flyte::rpc::internal {
namespace {

// Streams taken per wake-up: large enough to amortise the lock, small enough that every pump thread gets a share
// of one event's burst of thousands.
constexpr size_t kBatch = 64;

}  // namespace

GrpcWritePump::GrpcWritePump(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

GrpcWritePump::~GrpcWritePump() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void GrpcWritePump::Schedule(std::shared_ptr<Pumpable> p) {
  bool wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    wake = queue_.empty();
    queue_.push_back(std::move(p));
  }
  // Only the first of a burst needs to wake anyone: a busy thread keeps draining, and it wakes a second one.
  if (wake) cv_.notify_one();
}

void GrpcWritePump::Loop() {
  std::vector<std::shared_ptr<Pumpable>> batch;
  batch.reserve(kBatch);
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const bool more = !queue_.empty();
    l.unlock();
    if (more) cv_.notify_one();  // let another thread share the burst
    for (auto& p : batch) p->Pump();
    batch.clear();  // streams are released outside the lock: the last reference may end one
    l.lock();
  }
}

}  // namespace flyte::rpc::internal
