#include "service/state_use_cases.h"

#include <memory>
#include <unordered_map>

#include "domain/naming.h"
#include "service/live_gate.h"

namespace flyte::runs {

namespace {

absl::Status MissingAction(const ActionKey& key) {
  return absl::NotFoundError("action " + key.run.name + "/" + key.name +
                             " not found (give parent_action_name to create it)");
}

}  // namespace

ActionEvent StateUseCases::WithDefaults(const ActionEvent& event) const {
  ActionEvent e = event;
  if (e.occurred_at == TimePoint{}) e.occurred_at = clock_.Now();
  if (e.attempt == 0) e.attempt = 1;
  return e;
}

std::vector<absl::Status> StateUseCases::PutMany(const std::vector<Report>& reports) {
  std::vector<absl::Status> out(reports.size());
  std::vector<KeyedEvent> batch;
  std::vector<size_t> index;  // batch position -> report position
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].event.phase == Phase::kUnspecified) {
      out[i] = absl::InvalidArgumentError("state.phase is required");
      continue;
    }
    batch.push_back(KeyedEvent{reports[i].key, WithDefaults(reports[i].event)});
    index.push_back(i);
  }
  std::vector<absl::StatusOr<Action>> applied = store_.Actions().ApplyEvents(batch);
  // Reports of actions not recorded yet create them under their parent first: one by one, in order, after the
  // batch (none of their reports could apply in it, since the action did not exist there).
  for (size_t b = 0; b < applied.size(); ++b) {
    const size_t i = index[b];
    if (applied[b].status().code() != absl::StatusCode::kNotFound) {
      out[i] = applied[b].status();
    } else {
      out[i] = CreateChildAndApply(reports[i].key, reports[i].parent, reports[i].event).status();
    }
  }
  return out;
}

absl::StatusOr<Action> StateUseCases::Put(const ActionKey& key, const std::optional<std::string>& parent,
                                          const ActionEvent& event) {
  if (event.phase == Phase::kUnspecified) return absl::InvalidArgumentError("state.phase is required");
  ActionRepository& actions = store_.Actions();
  // Nearly every report is for an action that exists: apply first, create only when it turns out missing.
  absl::StatusOr<Action> applied = actions.ApplyEvent(key, WithDefaults(event));
  if (applied.status().code() != absl::StatusCode::kNotFound) return applied;
  return CreateChildAndApply(key, parent, event);
}

absl::StatusOr<Action> StateUseCases::CreateChildAndApply(const ActionKey& key,
                                                          const std::optional<std::string>& parent,
                                                          const ActionEvent& event) {
  if (!parent || parent->empty()) return MissingAction(key);
  ActionRepository& actions = store_.Actions();
  absl::StatusOr<Action> parent_action = actions.Get(ActionKey{key.run, *parent});
  if (parent_action.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("parent action " + key.run.name + "/" + *parent + " not found");
  }
  if (!parent_action.ok()) return parent_action.status();
  Action child;
  child.key = key;
  child.parent = *parent;
  child.type = ActionType::kTask;
  child.phase = Phase::kQueued;
  child.input_uri =
      parent_action->run_output_base.empty() ? "" : parent_action->run_output_base + key.name + "/inputs.pb";
  child.run_output_base = parent_action->run_output_base;
  child.created_at = clock_.Now();
  child.updated_at = child.created_at;
  absl::Status created = actions.CreateAction(child);
  // Two reporters racing to create the same child is fine: the loser applies its event to the winner's row.
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) return created;
  return actions.ApplyEvent(key, WithDefaults(event));
}

absl::Status StateUseCases::RecordTrace(Action trace, const TraceOutcome& outcome) {
  if (absl::Status named = CheckChildNames(trace); !named.ok()) return named;
  ActionRepository& actions = store_.Actions();
  absl::StatusOr<Action> parent = actions.Get(ActionKey{trace.key.run, *trace.parent});
  if (parent.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("parent action " + trace.key.run.name + "/" + *trace.parent + " not found");
  }
  if (!parent.ok()) return parent.status();
  const TimePoint now = clock_.Now();
  trace.type = ActionType::kTrace;
  trace.phase = Phase::kQueued;
  trace.created_at = now;
  trace.updated_at = now;
  if (absl::Status created = actions.CreateAction(trace);
      !created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    return created;
  }
  absl::StatusOr<Action> recorded = actions.Get(trace.key);
  if (!recorded.ok()) return recorded.status();
  if (recorded->type != ActionType::kTrace) {
    return absl::FailedPreconditionError("action " + trace.key.run.name + "/" + trace.key.name +
                                         " exists and is not a trace");
  }
  if (recorded->phase == Phase::kSucceeded) return absl::OkStatus();  // the same record again
  // The first record is attempt 1; a trace run again after its recorded failure is the next attempt.
  const uint32_t attempt = recorded->attempts == 0 ? 1 : recorded->attempts + (IsTerminal(recorded->phase) ? 1 : 0);
  ActionEvent running;
  running.attempt = attempt;
  running.phase = Phase::kRunning;
  running.occurred_at = outcome.start_time == TimePoint{} ? now : outcome.start_time;
  ActionEvent ended = running;
  ended.phase = outcome.phase == Phase::kUnspecified ? Phase::kSucceeded : outcome.phase;
  ended.occurred_at = outcome.end_time == TimePoint{} ? now : outcome.end_time;
  if (!outcome.output_uri.empty()) ended.output_uri = outcome.output_uri;
  for (const absl::StatusOr<Action>& r : actions.ApplyEvents({KeyedEvent{trace.key, running},
                                                              KeyedEvent{trace.key, ended}})) {
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<ActionWithAttempts> StateUseCases::Get(const ActionKey& key) {
  absl::StatusOr<ActionWithAttempts> a = store_.Actions().GetWithAttempts(key);
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  return a;
}

absl::StatusOr<WatchHandle> StateUseCases::Watch(const ActionKey& parent, WatchSink sink) {
  // Newest version sent per child, so a change seen in both the snapshot and live goes out once.
  auto versions = std::make_shared<std::unordered_map<std::string, int64_t>>();
  auto fresh = [versions](const Action& a) {
    auto [it, inserted] = versions->emplace(a.key.name, a.version);
    if (inserted) return true;
    if (a.version <= it->second) return false;
    it->second = a.version;
    return true;
  };
  auto gate = std::make_shared<LiveGate<ActionSnapshot>>([sink, fresh](const ActionSnapshot& s) mutable {
    if (!fresh(s->action)) return true;
    return sink.send(s->action);
  });
  // Subscribe before reading, so no child change between the read and going live is lost.
  WatchHandle handle =
      changes_.Subscribe(ChangeDispatcher::ParentTopic(parent), [gate](const ActionSnapshot& s) { gate->OnEvent(s); });

  ListQuery q;
  q.org = parent.run.org;
  q.project = parent.run.project;
  q.domain = parent.run.domain;
  q.run_name = parent.run.name;
  q.parent = parent.name;
  q.limit = 200;
  q.offset = 0;
  while (true) {
    absl::StatusOr<Page<Action>> page = store_.Actions().List(q);
    if (!page.ok()) {
      gate->Close();
      return page.status();
    }
    for (const Action& child : page->items) {
      if (!fresh(child)) continue;
      if (!sink.send(child)) {
        gate->Close();
        return WatchHandle();
      }
    }
    if (!page->next_offset || page->items.empty()) break;
    q.offset = *page->next_offset;
  }
  if (!sink.sentinel()) {
    gate->Close();
    return WatchHandle();
  }
  gate->Open();
  return handle;
}

}  // namespace flyte::runs
