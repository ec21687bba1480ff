#include "service/trigger_use_cases.h"

namespace flyte::runs {

absl::StatusOr<std::optional<common::TimePoint>> TriggerUseCases::FirstTick(const Trigger& t, common::TimePoint now) {
  absl::StatusOr<std::optional<Schedule>> schedule = codec_.ScheduleOf(t, now);
  if (!schedule.ok()) return schedule.status();
  if (!schedule->has_value() || !t.active) return std::optional<common::TimePoint>();
  absl::StatusOr<common::TimePoint> next = NextTick(**schedule, now);
  if (!next.ok()) return absl::InvalidArgumentError("automation_spec.schedule: " + std::string(next.status().message()));
  return std::optional<common::TimePoint>(*next);
}

absl::Status TriggerUseCases::Deploy(std::vector<Trigger> triggers) {
  const common::TimePoint now = clock_.Now();
  for (Trigger& t : triggers) {
    absl::StatusOr<std::optional<common::TimePoint>> first = FirstTick(t, now);
    if (!first.ok()) {
      return absl::Status(first.status().code(), "trigger " + t.key.name + ": " + std::string(first.status().message()));
    }
    t.next_fire_at = *first;
    t.deployed_at = now;
    t.updated_at = now;
  }
  for (const Trigger& t : triggers) {
    if (absl::StatusOr<Trigger> stored = triggers_.Deploy(t); !stored.ok()) return stored.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<Trigger> TriggerUseCases::Get(const TriggerKey& key) { return triggers_.Get(key); }

absl::StatusOr<std::vector<Trigger>> TriggerUseCases::List(const TriggerScope& scope, int offset, int limit) {
  return triggers_.List(scope, offset, limit);
}

absl::Status TriggerUseCases::SetActive(const std::vector<TriggerKey>& keys, bool active) {
  for (const TriggerKey& key : keys) {
    absl::StatusOr<Trigger> t = triggers_.Get(key);
    if (!t.ok()) return t.status();
    const common::TimePoint now = clock_.Now();
    t->active = active;
    absl::StatusOr<std::optional<common::TimePoint>> next = FirstTick(*t, now);
    if (!next.ok()) return next.status();
    if (absl::Status s = triggers_.SetActive(key, active, *next, now); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status TriggerUseCases::Delete(const std::vector<TriggerKey>& keys) {
  for (const TriggerKey& key : keys) {
    if (absl::Status s = triggers_.Delete(key); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace flyte::runs
