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
    // Coalesce: an action already waiting will be loaded in its newest state anyway.
    if (!queued_.insert(ActionTopic(change.key)).second) {
      ++done_;
      return;
    }
    queue_.push_back(change.key);
  }
  cv_.notify_all();
}

void ChangeDispatcher::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  cv_.wait(lock, [&] { return done_ >= target || stopping_; });
}

uint64_t ChangeDispatcher::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

void ChangeDispatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    ActionKey key = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(ActionTopic(key));
    ++loads_;
    lock.unlock();
    Dispatch(key);
    lock.lock();
    ++done_;
    cv_.notify_all();
  }
}

void ChangeDispatcher::Dispatch(const ActionKey& key) {
  absl::StatusOr<ActionWithAttempts> loaded = actions_.GetWithAttempts(key);
  if (!loaded.ok()) {
    // A deleted row or an outage: watchers miss this change; they re-read on the next one or re-watch.
    if (loaded.status().code() != absl::StatusCode::kNotFound) {
      std::cerr << "change dispatcher: loading " << key.run.name << "/" << key.name << ": " << loaded.status()
                << "\n";
    }
    return;
  }
  auto snapshot = std::make_shared<const ActionWithAttempts>(std::move(*loaded));
  const Action& a = snapshot->action;
  hub_.Publish(ActionTopic(a.key), snapshot);
  hub_.Publish(RunTopic(a.key.run), snapshot);
  if (a.parent) hub_.Publish(ParentTopic(ActionKey{a.key.run, *a.parent}), snapshot);
  if (!a.parent) {
    hub_.Publish(ProjectTopic(a.key.run.org, a.key.run.project, a.key.run.domain), snapshot);
    hub_.Publish(OrgTopic(a.key.run.org), snapshot);
  }
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
