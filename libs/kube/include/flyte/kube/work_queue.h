#pragma once
// The work queue of a controller, as client-go's: keys, not events.
//  * A key added while it is already waiting is queued once (de-duplicated).
//  * A key is handed to one worker at a time: added again while being processed, it waits until Done and is then
//    handed out again (so a change during a reconcile is never lost, and never reconciled concurrently).
//  * AddAfter delays a key (timeouts, periodic checks); AddRateLimited delays it by base * 2^failures (capped),
//    Forget resets its failure count after a success.
// Thread-safe. Get blocks until a key is ready or ShutDown.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace flyte::kube {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(std::chrono::milliseconds base_delay = std::chrono::milliseconds(50),
                     std::chrono::milliseconds max_delay = std::chrono::seconds(60));

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int Failures(const std::string& key);

  // Blocks until a key is ready; false once ShutDown was called (the remaining keys are dropped).
  bool Get(std::string* key);
  // The worker finished `key`; if it was added meanwhile it becomes ready again.
  void Done(const std::string& key);
  void ShutDown();

  size_t Len();          // ready keys
  size_t Delayed();      // keys waiting for their delay

 private:
  void AddLocked(const std::string& key);

  const std::chrono::milliseconds base_delay_;
  const std::chrono::milliseconds max_delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued after Done
  std::unordered_set<std::string> processing_;
  std::multimap<Clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, Clock::time_point> delayed_at_;  // earliest pending delay per key
  std::unordered_map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace flyte::kube
