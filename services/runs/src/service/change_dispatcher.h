#pragma once
// The one component that turns committed action changes into watch events. It is the ActionRepository's change
// listener; each change is queued (coalesced per action), loaded ONCE from the database on the dispatcher's own
// thread (never the writer's) and published to these topics of its WatchHub:
//   ActionTopic(key)          the action itself
//   RunTopic(run)             every action of the run
//   ParentTopic(parent key)   the children of an action
//   ProjectTopic(o, p, d)     root actions (runs) of a project/domain
//   OrgTopic(o)               root actions (runs) of an org
// Subscribers get a shared, immutable snapshot of the action with its attempts; callbacks must not block.
//
// Thread-safe. Ownership: borrows the repository, which must outlive the dispatcher. Shutdown() (also run by the
// destructor) stops the thread; changes still queued are dropped.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "domain/action.h"
#include "flyte/common/watch_hub.h"
#include "repository/action_repository.h"

namespace flyte::runs {

using ActionSnapshot = std::shared_ptr<const ActionWithAttempts>;
using WatchHandle = std::unique_ptr<common::WatchHubBase::Subscription>;

class ChangeDispatcher {
 public:
  // Installs itself as `actions`' change listener and starts its thread.
  explicit ChangeDispatcher(ActionRepository& actions);
  ~ChangeDispatcher();
  ChangeDispatcher(const ChangeDispatcher&) = delete;
  ChangeDispatcher& operator=(const ChangeDispatcher&) = delete;

  WatchHandle Subscribe(const std::string& topic, std::function<void(const ActionSnapshot&)> cb);

  // The repository listener. Never blocks on the database.
  void Notify(const ActionChange& change);
  // Waits until everything notified before the call has been published (for tests and orderly shutdown).
  void Flush();
  void Shutdown();

  // Events published so far and database loads done (each change coalesced into one load).
  uint64_t loads() const;

  static std::string ActionTopic(const ActionKey& key);
  static std::string RunTopic(const RunKey& run);
  static std::string ParentTopic(const ActionKey& parent);
  static std::string ProjectTopic(const std::string& org, const std::string& project, const std::string& domain);
  static std::string OrgTopic(const std::string& org);

 private:
  void Run();
  void Dispatch(const ActionKey& key);

  ActionRepository& actions_;
  common::WatchHub<ActionSnapshot> hub_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ActionKey> queue_;
  std::unordered_set<std::string> queued_;  // ActionTopic of queued keys, for coalescing
  uint64_t enqueued_ = 0, done_ = 0, loads_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flyte::runs
