#include "load.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace flyte::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t outstanding = 0;
  uint64_t sent = 0;
  Clock::time_point last_done{};
  bool closed = false;  // after the drain: late completions are ignored
};

}  // namespace

LoadResult RunLoad(const LoadOptions& o, const IssueFn& issue, Recorder* recorder) {
  auto st = std::make_shared<Shared>();
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + o.duration;
  st->last_done = start;

  // Completion: latency from `t0` (scheduled time in open loop, send time in closed loop).
  auto complete = [st, recorder](Clock::time_point t0, const CallResult& r) {
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(st->mu);
    if (st->closed) return;
    recorder->Record(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count(), r);
    --st->outstanding;
    st->last_done = now;
    st->cv.notify_all();
  };

  if (o.rate > 0) {
    const double interval_ns = 1e9 / o.rate;
    for (uint64_t i = 0;; ++i) {
      const Clock::time_point when = start + std::chrono::nanoseconds(static_cast<int64_t>(i * interval_ns));
      if (when >= end) break;
      std::this_thread::sleep_until(when);
      {
        std::lock_guard<std::mutex> lock(st->mu);
        if (st->outstanding >= o.max_outstanding) {
          recorder->RecordError("CLIENT_BACKLOG");
          continue;
        }
        ++st->outstanding;
        ++st->sent;
      }
      issue(i, [complete, when](const CallResult& r) { complete(when, r); });
    }
  } else {
    // Closed loop: each completion starts the next call until the duration is over.
    auto seq = std::make_shared<std::atomic<uint64_t>>(0);
    auto next = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak_next = next;
    *next = [st, seq, end, complete, &issue, weak_next]() {
      const Clock::time_point t0 = Clock::now();
      if (t0 >= end) return;
      {
        std::lock_guard<std::mutex> lock(st->mu);
        if (st->closed) return;
        ++st->outstanding;
        ++st->sent;
      }
      issue(seq->fetch_add(1), [complete, t0, weak_next](const CallResult& r) {
        complete(t0, r);
        if (auto n = weak_next.lock()) (*n)();
      });
    };
    for (int i = 0; i < std::max(1, o.concurrency); ++i) (*next)();
    std::this_thread::sleep_until(end);
    // `next` stays alive (and `issue` with it) until the drain below is over.
    std::unique_lock<std::mutex> lock(st->mu);
    st->cv.wait_until(lock, end + o.drain, [&] { return st->outstanding == 0; });
    st->closed = true;
    LoadResult res;
    res.sent = st->sent;
    res.unfinished = st->outstanding;
    const Clock::time_point stop = st->outstanding == 0 ? st->last_done : Clock::now();
    res.elapsed_s = std::chrono::duration<double>(stop - start).count();
    lock.unlock();
    for (uint64_t k = 0; k < res.unfinished; ++k) recorder->RecordError("DEADLINE_EXCEEDED");
    next.reset();
    return res;
  }

  std::unique_lock<std::mutex> lock(st->mu);
  st->cv.wait_until(lock, end + o.drain, [&] { return st->outstanding == 0; });
  st->closed = true;
  LoadResult res;
  res.sent = st->sent;
  res.unfinished = st->outstanding;
  const Clock::time_point stop = st->outstanding == 0 ? std::max(st->last_done, end) : Clock::now();
  res.elapsed_s = std::chrono::duration<double>(stop - start).count();
  lock.unlock();
  for (uint64_t k = 0; k < res.unfinished; ++k) recorder->RecordError("DEADLINE_EXCEEDED");
  return res;
}

}  // namespace flyte::loadgen
