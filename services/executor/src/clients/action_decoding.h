#pragma once
// flyteidl2.workflow.EnqueueActionRequest -> ActionToRun: what the queue hands out, as the runtime needs it.
// Pure functions; thread-safe.
#include "absl/status/statusor.h"
#include "flyteidl2/workflow/queue_service.pb.h"
#include "runtime/action.h"

namespace flyte::executor {

// The task spec (TaskAction.spec, serialized), input_uri, run_output_base, run spec envs and start time, identity.
// An action that is not a task action (trace, condition) decodes with an empty task_spec: the runtime then fails
// it as InvalidTask. kInvalidArgument only when the action identifier is missing or incomplete.
absl::StatusOr<ActionToRun> DecodeEnqueuedAction(const flyteidl2::workflow::EnqueueActionRequest& request);

}  // namespace flyte::executor
