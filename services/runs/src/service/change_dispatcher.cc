#include "service/change_dispatcher.h"

#include <iostream>

namespace flyte::runs {
namespace {

// Topic parts are joined with a byte that cannot appear in validated identifiers, so keys never collide.
std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    out.append(p);
    out.push_back('\x1f');
  }
  return out;
}

}  // namespace

ChangeDispatcher::ChangeDispatcher(ActionRepository& actions) : actions_(actions) {
  actions_.SetChangeListener([this](const ActionChange& change) { Notify(change); });
  thread_ = std::thread([this] { Run(); });
}

ChangeDispatcher::~ChangeDispatcher() { Shutdown(); }

void ChangeDispatcher::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  actions_.SetChangeListener([](const ActionChange&) {});
}

WatchHandle ChangeDispatcher::Subscribe(const std::string& topic, std::function<void(const ActionSnapshot&)> cb) {
  return hub_.Subscribe(topic, std::move(cb));
}

void ChangeDispatcher::Notify(const ActionChange& change) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    ++enqueued_;
    // Coalesce: an action already waiting goes out once, in its newest state.
    std::string topic = ActionTopic(change.key);
    auto [it, inserted] = queued_.try_emplace(topic, change);
    if (!inserted) {
      if (change.version >= it->second.version) it->second = change;
      ++done_;
      return;
    }
    queue_.push_back(std::move(topic));
  }
  cv_.notify_all();
}

void ChangeDispatcher::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  cv_.wait(lock, [&] { return done_ >= target || stopping_; });
}

uint64_t ChangeDispatcher::snapshots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshots_;
}

void ChangeDispatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto it = queued_.find(queue_.front());
    queue_.pop_front();
    ActionChange change = std::move(it->second);
    queued_.erase(it);
    lock.unlock();
    const bool built = Dispatch(change);
    lock.lock();
    if (built) ++snapshots_;
    ++done_;
    cv_.notify_all();
  }
}

bool ChangeDispatcher::Dispatch(const ActionChange& change) {
  const ActionKey& key = change.key;
  std::vector<std::string> topics = {RunTopic(key.run)};
  if (change.parent) {
    topics.push_back(ParentTopic(ActionKey{key.run, *change.parent}));
  } else {
    topics.push_back(ProjectTopic(key.run.org, key.run.project, key.run.domain));
    topics.push_back(OrgTopic(key.run.org));
  }
  const std::string details_topic = ActionTopic(key);
  const bool details = hub_.SubscriberCount(details_topic) > 0;
  bool anyone = details;
  for (const std::string& t : topics) anyone = anyone || hub_.SubscriberCount(t) > 0;
  // Whoever subscribes after this check reads the committed change in its own snapshot.
  if (!anyone) return false;

  ActionSnapshot snapshot;
  if (!details && change.action) {
    snapshot = std::make_shared<const ActionWithAttempts>(ActionWithAttempts{*change.action, {}});
  } else {
    absl::StatusOr<ActionWithAttempts> loaded = actions_.GetWithAttempts(key);
    if (!loaded.ok()) {
      // A deleted row or an outage: watchers miss this change; they re-read on the next one or re-watch.
      if (loaded.status().code() != absl::StatusCode::kNotFound) {
        std::cerr << "change dispatcher: loading " << key.run.name << "/" << key.name << ": " << loaded.status()
                  << "\n";
      }
      return false;
    }
    snapshot = std::make_shared<const ActionWithAttempts>(std::move(*loaded));
  }
  if (details) hub_.Publish(details_topic, snapshot);
  for (const std::string& t : topics) hub_.Publish(t, snapshot);
  return true;
}

std::string ChangeDispatcher::ActionTopic(const ActionKey& k) {
  return Join({"action", k.run.org, k.run.project, k.run.domain, k.run.name, k.name});
}
std::string ChangeDispatcher::RunTopic(const RunKey& r) { return Join({"run", r.org, r.project, r.domain, r.name}); }
std::string ChangeDispatcher::ParentTopic(const ActionKey& k) {
  return Join({"parent", k.run.org, k.run.project, k.run.domain, k.run.name, k.name});
}
std::string ChangeDispatcher::ProjectTopic(const std::string& org, const std::string& project,
                                           const std::string& domain) {
  return Join({"project", org, project, domain});
}
std::string ChangeDispatcher::OrgTopic(const std::string& org) { return Join({"org", org}); }

}  // namespace flyte::runs
