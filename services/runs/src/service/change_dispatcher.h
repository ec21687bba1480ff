#pragma once
// The one component that turns committed action changes into watch events. It is the ActionRepository's change
// listener; each change is queued (coalesced per action), turned ONCE into a snapshot on the dispatcher's own
// thread (never the writer's) and published to these topics of its WatchHub:
//   ActionTopic(key)          the action itself
//   RunTopic(run)             every action of the run
//   ParentTopic(parent key)   the children of an action
//   ProjectTopic(o, p, d)     root actions (runs) of a project/domain
//   OrgTopic(o)               root actions (runs) of an org
// Subscribers get a shared, immutable snapshot of the action; callbacks must not block. Only ActionTopic
// subscribers (action details) get its attempts too: for them the snapshot is loaded from the database; for the
// others the action as the writer committed it is used when the change carries it (SQLite; PostgreSQL changes
// come from NOTIFY and are loaded). A change nobody subscribes to is not loaded at all.
//
// Thread-safe. Ownership: borrows the repository, which must outlive the dispatcher. Shutdown() (also run by the
// destructor) stops the thread; changes still queued are dropped.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

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

  // Snapshots built so far (each coalesced change becomes one, whatever the number of watchers).
  uint64_t snapshots() const;

  static std::string ActionTopic(const ActionKey& key);
  static std::string RunTopic(const RunKey& run);
  static std::string ParentTopic(const ActionKey& parent);
  static std::string ProjectTopic(const std::string& org, const std::string& project, const std::string& domain);
  static std::string OrgTopic(const std::string& org);

 private:
  void Run();
  bool Dispatch(const ActionChange& change);  // false: nobody listens, or it could not be loaded

  ActionRepository& actions_;
  common::WatchHub<ActionSnapshot> hub_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                          // ActionTopic of queued changes, oldest first
  std::unordered_map<std::string, ActionChange> queued_;  // by ActionTopic: the newest change of that action
  uint64_t enqueued_ = 0, done_ = 0, snapshots_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flyte::runs
