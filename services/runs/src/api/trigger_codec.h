#pragma once
// flyteidl2 ⇄ domain for triggers: TaskTrigger (DeployTaskRequest.triggers) and TriggerName in, Trigger and
// TriggerDetails out, and ProtoTriggerCodec, the TriggerCodec port (schedule of an automation spec, the run a fire
// creates). Every error is kInvalidArgument naming the request field.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "flyteidl2/common/identifier.pb.h"
#include "flyteidl2/task/task_definition.pb.h"
#include "flyteidl2/trigger/trigger_definition.pb.h"
#include "service/trigger_use_cases.h"

namespace flyte::runs::api {

// The trigger `in` of the task `task` (its version is the one the trigger launches); `path` = "triggers[i]".
absl::StatusOr<Trigger> ToTrigger(const flyteidl2::task::TaskTrigger& in, const TaskKey& task, std::string_view path);
absl::StatusOr<TriggerKey> ToTriggerKey(const flyteidl2::common::TriggerName& name, std::string_view path);
void FillTriggerName(const TriggerKey& key, flyteidl2::common::TriggerName* out);
void ToTriggerMessage(const Trigger& t, flyteidl2::trigger::Trigger* out);
void ToTriggerDetails(const Trigger& t, flyteidl2::trigger::TriggerDetails* out);
// `metadata` (serialized ActionMetadata extras, "" = none) naming `t` as the run's trigger (trigger_id with its
// revision, trigger_name, trigger_type).
std::string WithTrigger(const std::string& metadata, const Trigger& t);

class ProtoTriggerCodec final : public TriggerCodec {
 public:
  absl::StatusOr<std::optional<Schedule>> ScheduleOf(const Trigger& trigger, common::TimePoint default_anchor) override;
  absl::StatusOr<CreateRunParams> RunFor(const Trigger& trigger, common::TimePoint tick) override;
};

}  // namespace flyte::runs::api
