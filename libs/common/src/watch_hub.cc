#include "flyte/common/watch_hub.h"

#include <algorithm>

namespace flyte::common {

// A recursive mutex per entry serialises delivery with cancellation: Cancel from another thread waits for an
// in-flight callback, and Cancel from inside the callback (a stream's OnDone firing during Send) re-enters.
struct WatchHubBase::Subscription::Entry {
  std::recursive_mutex mu;
  bool active = true;
  RawCallback cb;
};

struct WatchHubBase::Subscription::State {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Entry>>> topics;

  void Remove(const std::string& topic, const std::shared_ptr<Entry>& entry) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = topics.find(topic);
    if (it == topics.end()) return;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), entry), v.end());
    if (v.empty()) topics.erase(it);
  }
};

WatchHubBase::WatchHubBase() : state_(std::make_shared<Subscription::State>()) {}

WatchHubBase::~WatchHubBase() {
  // Entries are released outside the lock: their callbacks may own streams whose teardown unsubscribes.
  std::unordered_map<std::string, std::vector<std::shared_ptr<Subscription::Entry>>> topics;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    topics.swap(state_->topics);
  }
  for (auto& [topic, entries] : topics) {
    for (auto& e : entries) {
      RawCallback dead;  // dropped outside the entry lock: it may own a stream that unsubscribes on teardown
      {
        std::lock_guard<std::recursive_mutex> lock(e->mu);
        e->active = false;
        dead.swap(e->cb);
      }
    }
  }
}

WatchHubBase::Subscription::Subscription(std::shared_ptr<State> hub, std::string topic, std::shared_ptr<Entry> entry)
    : hub_(hub), topic_(std::move(topic)), entry_(std::move(entry)) {}

WatchHubBase::Subscription::~Subscription() { Cancel(); }

void WatchHubBase::Subscription::Cancel() {
  if (!entry_) return;
  {
    std::lock_guard<std::recursive_mutex> lock(entry_->mu);
    entry_->active = false;
  }
  hub_->Remove(topic_, entry_);
  entry_.reset();
  hub_.reset();
}

std::unique_ptr<WatchHubBase::Subscription> WatchHubBase::SubscribeRaw(const std::string& topic, RawCallback cb) {
  auto entry = std::make_shared<Subscription::Entry>();
  entry->cb = std::move(cb);
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->topics[topic].push_back(entry);
  }
  return std::unique_ptr<Subscription>(new Subscription(state_, topic, std::move(entry)));
}

size_t WatchHubBase::PublishRaw(const std::string& topic, const std::shared_ptr<const void>& event) {
  std::vector<std::shared_ptr<Subscription::Entry>> targets;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->topics.find(topic);
    if (it == state_->topics.end()) return 0;
    targets = it->second;
  }
  size_t called = 0;
  for (const auto& entry : targets) {
    std::lock_guard<std::recursive_mutex> lock(entry->mu);
    if (!entry->active) continue;
    entry->cb(event);
    ++called;
  }
  return called;
}

size_t WatchHubBase::SubscriberCount(const std::string& topic) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->topics.find(topic);
  return it == state_->topics.end() ? 0 : it->second.size();
}

size_t WatchHubBase::TopicCount() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->topics.size();
}

}  // namespace flyte::common
