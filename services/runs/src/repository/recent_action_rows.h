#pragma once
// The action rows (with the attempt rows written alongside) this process last committed for live actions, by key:
// what lets a state report on PostgreSQL skip its locked reads. A remembered row is only ever a guess: the write
// that uses it is conditional on the stored version still being the remembered one (SqlActionRepository's
// ApplyEvents), so a row another replica or an abort changed since is detected, forgotten and re-read under lock.
// Bounded: terminal actions are dropped, and past `capacity` an arbitrary entry makes room. Thread-safe.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "repository/event_plan.h"

namespace flyte::runs {

class RecentActionRows {
 public:
  struct Entry {
    std::shared_ptr<const Action> action;  // as stored (PlanEvents keeps timestamps at the stored precision)
    AttemptsById attempts;                 // rows of this action as of action->version (not necessarily all)
  };

  explicit RecentActionRows(size_t capacity) : capacity_(capacity) {}

  std::optional<Entry> Find(const ActionKey& key) const;
  // After `plan` committed: each changed action with the attempt rows it wrote. A terminal action is forgotten; a
  // row older than the one remembered (a racing write committed later) is ignored.
  void Remember(const EventPlan& plan);
  void Forget(const ActionKey& key);
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<ActionKey, Entry, ActionKeyLess> rows_;
};

}  // namespace flyte::runs
