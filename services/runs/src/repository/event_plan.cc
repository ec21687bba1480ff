#include "repository/event_plan.h"

#include <algorithm>
#include <set>
#include <utility>

#include "repository/action_rows.h"  // NotFound, AsStored

namespace flyte::runs {
namespace {

// The action row after one event of `attempt` that leaves the action in `phase` (NextActionPhase), at `at` (the
// event's time as a read of the row gives it back).
void ApplyToAction(Action& a, const ActionEvent& ev, uint32_t attempt, Phase phase, TimePoint at) {
  const bool terminal = IsTerminal(phase);
  const bool retry = IsTerminal(a.phase) && !terminal;
  const bool same = a.phase == phase;
  // A failed attempt that a retry follows is the attempt's failure, not the action's: its error stays on the
  // attempt, and the action stays live.
  const bool attempt_only = ev.retry_follows && !IsTerminal(phase) && IsTerminal(ev.phase);
  a.phase = phase;
  a.attempts = std::max(a.attempts, attempt);
  a.updated_at = at;
  if (!a.started_at && phase != Phase::kQueued) a.started_at = at;
  if (terminal) {
    if (!(same && a.ended_at)) a.ended_at = at;
  } else {
    a.ended_at.reset();
  }
  if (ev.output_uri && !attempt_only) a.output_uri = *ev.output_uri;
  if (ev.cache_status != 0) a.cache_status = ev.cache_status;
  if (ev.error && !attempt_only) {
    a.error = ev.error;
  } else if (retry) {
    a.error.reset();  // the new attempt has not failed (yet)
  }
  ++a.version;
}

// A new phase in an attempt's history: whatever entry is still open ends at `at`.
void AddTransition(Attempt& a, Phase phase, TimePoint at, std::optional<TimePoint> end) {
  for (PhaseTransition& t : a.transitions) {
    if (!t.end_time) t.end_time = at;
  }
  a.transitions.push_back(PhaseTransition{phase, at, end});
}

class Planner {
 public:
  Planner(ActionsByKey actions, AttemptsById attempts) : actions_(std::move(actions)), attempts_(std::move(attempts)) {}

  void Apply(const KeyedEvent& e) {
    auto it = actions_.find(e.key);
    if (it == actions_.end()) {
      plan_.results.emplace_back(NotFound(e.key));
      return;
    }
    Action& a = it->second;
    const ActionEvent& ev = e.event;
    const uint32_t attempt = EventAttempt(ev, a);
    absl::StatusOr<Phase> phase = NextActionPhase(a.phase, ev.phase, attempt > a.attempts, ev.retry_follows);
    if (!phase.ok()) {
      plan_.results.emplace_back(phase.status());
      return;
    }
    const TimePoint at = AsStored(ev.occurred_at);
    ApplyToAction(a, ev, attempt, *phase, at);
    changed_actions_.insert(e.key);

    const AttemptId id{e.key, attempt};
    const bool terminal = IsTerminal(ev.phase);
    const std::optional<TimePoint> end = terminal ? std::optional<TimePoint>(at) : std::nullopt;
    auto row = attempts_.find(id);
    if (row == attempts_.end()) {
      // A new attempt row.
      Attempt fresh;
      fresh.attempt = attempt;
      fresh.phase = ev.phase;
      fresh.start_time = at;
      fresh.end_time = end;
      fresh.error = ev.error;
      fresh.output_uri = ev.output_uri.value_or("");
      fresh.log_info = ev.log_info;
      fresh.cluster = ev.cluster;
      row = attempts_.emplace(id, std::move(fresh)).first;
      AddTransition(row->second, ev.phase, at, end);
    } else {
      Attempt& r = row->second;
      const Phase before = r.phase;
      r.phase = ev.phase;
      if (terminal) {
        if (!r.end_time) r.end_time = at;
      } else {
        r.end_time.reset();
      }
      if (ev.error) r.error = ev.error;
      if (ev.output_uri) r.output_uri = *ev.output_uri;
      if (!ev.log_info.empty()) r.log_info = ev.log_info;
      if (!ev.cluster.empty()) r.cluster = ev.cluster;
      // The row's phase is its newest history entry's: a new phase closes the open entry and opens its own.
      if (before != ev.phase) AddTransition(r, ev.phase, at, end);
    }
    touched_attempts_.insert(id);
    std::vector<ClusterEvent>& events = row->second.cluster_events;
    events.insert(events.end(), ev.cluster_events.begin(), ev.cluster_events.end());
    plan_.changes.push_back(ActionChange{a.key, a.parent, a.version, std::make_shared<const Action>(a)});
    plan_.results.emplace_back(a);
  }

  EventPlan Finish() && {
    for (const ActionKey& k : changed_actions_) plan_.actions.push_back(actions_.at(k));
    for (const AttemptId& id : touched_attempts_) plan_.attempts.emplace_back(id, attempts_.at(id));
    return std::move(plan_);
  }

 private:
  ActionsByKey actions_;
  AttemptsById attempts_;
  std::set<ActionKey, ActionKeyLess> changed_actions_;
  std::set<AttemptId, AttemptIdLess> touched_attempts_;
  EventPlan plan_;
};

}  // namespace

uint32_t EventAttempt(const ActionEvent& ev, const Action& action) {
  return ev.attempt == 0 ? std::max<uint32_t>(1, action.attempts) : ev.attempt;
}

std::vector<AttemptId> AttemptsToLoad(const std::vector<KeyedEvent>& events, const ActionsByKey& actions) {
  std::set<AttemptId, AttemptIdLess> ids;
  for (const KeyedEvent& e : events) {
    auto it = actions.find(e.key);
    if (it == actions.end()) continue;
    const uint32_t attempt = EventAttempt(e.event, it->second);
    if (attempt <= it->second.attempts) ids.insert(AttemptId{e.key, attempt});
  }
  return {ids.begin(), ids.end()};
}

EventPlan PlanEvents(const std::vector<KeyedEvent>& events, ActionsByKey actions, AttemptsById attempts) {
  Planner planner(std::move(actions), std::move(attempts));
  for (const KeyedEvent& e : events) planner.Apply(e);
  return std::move(planner).Finish();
}

}  // namespace flyte::runs
