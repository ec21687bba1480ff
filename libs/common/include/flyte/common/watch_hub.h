#pragma once
// Topic-keyed fan-out for watch streams: subscribers register a callback under a string topic; a publisher hands
// one event to every subscriber of that topic.
//
// Thread-safety: every method may be called from any thread, concurrently. Publish calls the callbacks on the
// publisher's thread, outside the hub's lock, so callbacks must be cheap and must not block (a watch stream's
// Send only queues). A callback never runs after its Subscription has been destroyed (destruction waits for an
// in-flight call on another thread); destroying a Subscription from inside its own callback is allowed.
// Ownership: a Subscription may outlive its hub (it then does nothing); destroying the hub drops every callback.
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace flyte::common {

// Type-erased core; use WatchHub<Event>.
class WatchHubBase {
 public:
  using RawCallback = std::function<void(const std::shared_ptr<const void>&)>;

  // Unsubscribes when destroyed. Movable only through the unique_ptr that Subscribe returns.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // Stops delivery now; later calls do nothing.
    void Cancel();

   private:
    friend class WatchHubBase;
    struct Entry;
    struct State;
    Subscription(std::shared_ptr<State> hub, std::string topic, std::shared_ptr<Entry> entry);
    std::shared_ptr<State> hub_;
    std::string topic_;
    std::shared_ptr<Entry> entry_;
  };

  WatchHubBase();
  ~WatchHubBase();
  WatchHubBase(const WatchHubBase&) = delete;
  WatchHubBase& operator=(const WatchHubBase&) = delete;

  std::unique_ptr<Subscription> SubscribeRaw(const std::string& topic, RawCallback cb);
  // Returns how many subscribers were called.
  size_t PublishRaw(const std::string& topic, const std::shared_ptr<const void>& event);
  size_t SubscriberCount(const std::string& topic) const;
  size_t TopicCount() const;

 private:
  // Shared with the subscriptions so that one outliving the hub can still unsubscribe safely.
  std::shared_ptr<Subscription::State> state_;
};

template <class Event>
class WatchHub {
 public:
  using Subscription = WatchHubBase::Subscription;
  using Callback = std::function<void(const Event&)>;

  std::unique_ptr<Subscription> Subscribe(const std::string& topic, Callback cb) {
    return base_.SubscribeRaw(topic, [cb = std::move(cb)](const std::shared_ptr<const void>& e) {
      cb(*static_cast<const Event*>(e.get()));
    });
  }
  // The event is shared (not copied) between subscribers.
  size_t Publish(const std::string& topic, std::shared_ptr<const Event> event) {
    return base_.PublishRaw(topic, std::static_pointer_cast<const void>(std::move(event)));
  }
  size_t Publish(const std::string& topic, Event event) {
    return Publish(topic, std::make_shared<const Event>(std::move(event)));
  }
  size_t SubscriberCount(const std::string& topic) const { return base_.SubscriberCount(topic); }
  size_t TopicCount() const { return base_.TopicCount(); }

 private:
  WatchHubBase base_;
};

}  // namespace flyte::common
