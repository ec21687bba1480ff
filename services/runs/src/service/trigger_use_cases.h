#pragma once
// Use cases of flyteidl2.trigger.TriggerService and of deploying a task's triggers (DeployTaskRequest.triggers), on
// domain types only. The flyteidl2 messages a trigger keeps (spec, automation spec) are read through the
// TriggerCodec port, implemented by the API layer.
//
// Thread-safe. Methods block on the database. Errors: kInvalidArgument (bad schedule; the message names the field),
// kNotFound (no such trigger), kUnavailable, kInternal.
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/schedule.h"
#include "domain/trigger.h"
#include "flyte/common/clock.h"
#include "repository/trigger_repository.h"
#include "service/run_use_cases.h"

namespace flyte::runs {

// What the use cases need to know of a trigger's flyteidl2 messages. Implemented in api/ (trigger_codec.h).
class TriggerCodec {
 public:
  virtual ~TriggerCodec() = default;
  // The schedule of `automation_spec`; nullopt when it has none (fired only on demand). A fixed rate without a
  // start time ticks from `default_anchor` (the deploy or activation time, then each fired tick). kInvalidArgument naming
  // the field (e.g. "automation_spec.schedule.cron.expression ...") for a bad or unsupported one.
  virtual absl::StatusOr<std::optional<Schedule>> ScheduleOf(const Trigger& trigger,
                                                              common::TimePoint default_anchor) = 0;
  // The run that firing `trigger` at `tick` creates: its task version, inputs (with the kickoff time input when
  // the schedule names one), run spec (run_start_time = tick) and metadata naming the trigger. The run key's
  // name is left for the caller.
  virtual absl::StatusOr<CreateRunParams> RunFor(const Trigger& trigger, common::TimePoint tick) = 0;
};

class TriggerUseCases {
 public:
  TriggerUseCases(TriggerRepository& triggers, TriggerCodec& codec, common::Clock& clock)
      : triggers_(triggers), codec_(codec), clock_(clock) {}

  // Checks every trigger's schedule first (nothing is stored when one is bad), then stores them; an active
  // scheduled trigger's next tick is the schedule's first tick after now.
  absl::Status Deploy(std::vector<Trigger> triggers);
  absl::StatusOr<Trigger> Get(const TriggerKey& key);
  absl::StatusOr<std::vector<Trigger>> List(const TriggerScope& scope, int offset, int limit);
  // Activates or deactivates every named trigger (kNotFound naming the first missing one; earlier ones stay
  // changed). Activation schedules the next tick after now: ticks missed while inactive are not fired.
  absl::Status SetActive(const std::vector<TriggerKey>& keys, bool active);
  absl::Status Delete(const std::vector<TriggerKey>& keys);

 private:
  absl::StatusOr<std::optional<common::TimePoint>> FirstTick(const Trigger& trigger, common::TimePoint now);

  TriggerRepository& triggers_;
  TriggerCodec& codec_;
  common::Clock& clock_;
};

}  // namespace flyte::runs
