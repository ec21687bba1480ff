#pragma once
// What a batch of state reports does to the stored rows, worked out without SQL: given the actions the batch names
// (as locked for update) and the attempt rows it touches, PlanEvents applies the events in order, exactly as one
// transaction applying them one at a time would, and returns each event's outcome plus the rows to write: each
// changed action and attempt once, in its final state (an attempt's phase history and cluster events are part of
// its row). Both SQL backends load with LoadForEvents-style reads and write the plan (sql_event_batch.cc);
// PostgreSQL writes each kind of row with one set-based statement.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/action.h"
#include "repository/action_repository.h"

namespace flyte::runs {

struct ActionKeyLess {
  bool operator()(const ActionKey& a, const ActionKey& b) const {
    return std::tie(a.run.org, a.run.project, a.run.domain, a.run.name, a.name) <
           std::tie(b.run.org, b.run.project, b.run.domain, b.run.name, b.name);
  }
};

struct AttemptId {
  ActionKey action;
  uint32_t attempt = 1;
};

struct AttemptIdLess {
  bool operator()(const AttemptId& a, const AttemptId& b) const {
    if (ActionKeyLess{}(a.action, b.action)) return true;
    if (ActionKeyLess{}(b.action, a.action)) return false;
    return a.attempt < b.attempt;
  }
};

using ActionsByKey = std::map<ActionKey, Action, ActionKeyLess>;
// Attempt rows as stored, with their phase history and cluster events.
using AttemptsById = std::map<AttemptId, Attempt, AttemptIdLess>;

struct EventPlan {
  std::vector<absl::StatusOr<Action>> results;  // one per event, in order
  std::vector<Action> actions;                  // final state of every changed action
  std::vector<std::pair<AttemptId, Attempt>> attempts;  // final state of every touched attempt row (upserted)
  std::vector<ActionChange> changes;  // one per applied event, in order
};

// The attempt an event is about: its own number, or (0 = "the current one") the action's latest, at least 1.
uint32_t EventAttempt(const ActionEvent& ev, const Action& action);

// The attempt rows a batch needs loaded: for each event whose action exists, its attempt, if the action already
// counts it (higher numbers are new rows).
std::vector<AttemptId> AttemptsToLoad(const std::vector<KeyedEvent>& events, const ActionsByKey& actions);

// Events naming a missing action get kNotFound, illegal transitions kFailedPrecondition; neither changes anything.
EventPlan PlanEvents(const std::vector<KeyedEvent>& events, ActionsByKey actions, AttemptsById attempts);

}  // namespace flyte::runs
