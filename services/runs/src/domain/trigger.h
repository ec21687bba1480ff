#pragma once
// Plain types for triggers (flyteidl2.trigger): a named launch plan of a task, deployed with it, that the scheduler
// fires on a fixed rate or a cron schedule. No gRPC, no SQL: the specs are the serialized flyteidl2 messages.
#include <cstdint>
#include <optional>
#include <string>

#include "flyte/common/clock.h"

namespace flyte::runs {

// flyteidl2.common.TriggerName: a trigger is named within its task.
struct TriggerKey {
  std::string org, project, domain, task_name, name;
  bool operator==(const TriggerKey&) const = default;
};

struct Trigger {
  TriggerKey key;
  int64_t revision = 0;        // 1 at the first deploy, +1 at each deploy, activation and deactivation
  std::string task_version;    // the task version it launches
  std::string spec;            // serialized flyteidl2.trigger.TriggerSpec (inputs, run spec, description)
  std::string automation_spec; // serialized flyteidl2.task.TriggerAutomationSpec (schedule)
  bool active = false;
  common::TimePoint deployed_at{};
  common::TimePoint updated_at{};
  std::optional<common::TimePoint> triggered_at;  // the last tick fired
  std::optional<common::TimePoint> next_fire_at;  // the next tick due; nullopt = nothing scheduled
  bool operator==(const Trigger&) const = default;
};

}  // namespace flyte::runs
