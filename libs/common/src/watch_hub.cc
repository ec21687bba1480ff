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

WatchHubBase::Subscription::Subscription(WatchHubBase* hub, std::string topic, std::shared_ptr<Entry> entry)
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
}

std::unique_ptr<WatchHubBase::Subscription> WatchHubBase::SubscribeRaw(const std::string& topic, RawCallback cb) {
  auto entry = std::make_shared<Subscription::Entry>();
  entry->cb = std::move(cb);
  {
    std::lock_guard<std::mutex> lock(mu_);
    topics_[topic].push_back(entry);
  }
  return std::unique_ptr<Subscription>(new Subscription(this, topic, std::move(entry)));
}

size_t WatchHubBase::PublishRaw(const std::string& topic, const std::shared_ptr<const void>& event) {
  std::vector<std::shared_ptr<Subscription::Entry>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return 0;
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
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.size();
}

size_t WatchHubBase::TopicCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return topics_.size();
}

void WatchHubBase::Remove(const std::string& topic, const std::shared_ptr<Subscription::Entry>& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), entry), v.end());
  if (v.empty()) topics_.erase(it);
}

}  // namespace flyte::common
