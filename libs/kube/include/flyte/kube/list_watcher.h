#pragma once
// Keeps a consumer in step with one kind of object in one namespace, the way client-go's reflector does: list
// (paged), hand over the complete set, then watch from the list's resourceVersion, handing over each change.
// A watch the server ends is resumed from the last resourceVersion seen (bookmarks included); a watch or list
// answered 410 Gone (the version was compacted away) lists again; other errors (API server down, 5xx, 429) are
// retried with exponential backoff. Nothing is assumed about event delivery: after every re-list the consumer gets
// the whole set again and must treat it as the truth (level-triggered).
//
// Thread-safety: the handlers run on the watcher's own thread, one at a time, in order. Start once; Stop (also
// run by the destructor) cancels the running request and joins.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flyte/kube/client.h"

namespace flyte::kube {

struct ListWatchHandlers {
  // The complete current set, after the first list and after every re-list.
  std::function<void(std::vector<Json> items)> on_list;
  // One change (added, modified, deleted; bookmarks are handled inside).
  std::function<void(WatchEventType type, Json object)> on_event;
};

struct ListWatchOptions {
  std::string label_selector;
  int64_t page_size = 500;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds min_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
};

class ListWatcher {
 public:
  ListWatcher(Client& client, Resource resource, std::string ns, ListWatchHandlers handlers,
              ListWatchOptions options = {});
  ~ListWatcher();
  ListWatcher(const ListWatcher&) = delete;
  ListWatcher& operator=(const ListWatcher&) = delete;

  void Start();
  void Stop();
  bool synced() const { return synced_.load(); }   // the first list was handed over
  bool WaitForSync(std::chrono::milliseconds timeout);
  int64_t relists() const { return relists_.load(); }  // lists after the first (410s, errors): for tests

 private:
  void Run();
  bool ListAll();            // false when stopping
  void Backoff(int failures);

  Client& client_;
  const Resource resource_;
  const std::string ns_;
  const ListWatchHandlers handlers_;
  const ListWatchOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  StopToken* active_ = nullptr;  // the request in flight, for Stop
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> relists_{0};
  std::string resource_version_;
  std::thread thread_;
};

}  // namespace flyte::kube
