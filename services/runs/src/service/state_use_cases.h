#pragma once
// Use cases of flyteidl2.workflow.StateService (the legacy executor/SDK state channel) on domain types.
// The wire `state` string is the proto3 JSON mapping of flyteidl2.workflow.ActionEvent; the api/ adapter parses
// and renders it, this layer sees domain ActionEvents.
//
// Thread-safe; blocks on the database. Errors: kNotFound (no such action, or no such run/parent when creating a
// child), kFailedPrecondition (illegal phase transition, e.g. SUCCEEDED -> RUNNING), kInvalidArgument.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"
#include "service/change_dispatcher.h"

namespace flyte::runs {

class StateUseCases {
 public:
  StateUseCases(Store& store, ChangeDispatcher& changes, common::Clock& clock)
      : store_(store), changes_(changes), clock_(clock) {}

  // Applies `event` to the action. If the action does not exist and `parent` is given, the child action is first
  // created under that parent (QUEUED, no spec) in the same run; the run must exist.
  absl::StatusOr<Action> Put(const ActionKey& key, const std::optional<std::string>& parent, const ActionEvent& event);
  // Put for each report in order, with one outcome each, in one transaction where the actions exist (the
  // executors' batched reports). A kUnavailable outcome means that report was not applied and may be retried.
  struct Report {
    ActionKey key;
    std::optional<std::string> parent;
    ActionEvent event;
  };
  std::vector<absl::Status> PutMany(const std::vector<Report>& reports);
  // Records a trace action (TRACE type, as the SDK enqueues it through QueueService.EnqueueAction) under its
  // parent with `outcome` as attempt 1: QUEUED -> RUNNING at start_time -> outcome.phase at end_time; nothing is
  // queued. Recording the same trace again is a no-op once it SUCCEEDED; over a FAILED record (the task was
  // retried and ran the trace again) it adds the next attempt. kInvalidArgument as EnqueueAction for the names,
  // kNotFound when the parent is not recorded, kFailedPrecondition when the name belongs to an action that is not
  // a trace.
  absl::Status RecordTrace(Action trace, const TraceOutcome& outcome);
  // The action's current state (kNotFound).
  absl::StatusOr<ActionWithAttempts> Get(const ActionKey& key);

  // Children of `parent`: every existing child, then `sentinel()`, then each change of a child. Never ends on its
  // own. Returns the handle to keep while the stream lives, or nullptr if the stream went away during the snapshot.
  struct WatchSink {
    std::function<bool(const Action&)> send;  // false: stream gone
    std::function<bool()> sentinel;
  };
  absl::StatusOr<WatchHandle> Watch(const ActionKey& parent, WatchSink sink);

 private:
  ActionEvent WithDefaults(const ActionEvent& event) const;  // occurred_at now, attempt 1 when not given
  // The step of Put and PutMany for an action not recorded yet: creates it as a QUEUED child of `parent` (kNotFound
  // if `parent` is not given or does not exist), then applies `event` to it.
  absl::StatusOr<Action> CreateChildAndApply(const ActionKey& key, const std::optional<std::string>& parent,
                                             const ActionEvent& event);

  Store& store_;
  ChangeDispatcher& changes_;
  common::Clock& clock_;
};

}  // namespace flyte::runs
