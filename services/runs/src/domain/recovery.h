#pragma once
// Recovery of a run (`flyte rerun --recover`): a new run that takes over the outcome of the actions that succeeded
// in an earlier run of the same project and domain, and runs only the rest. Plain types and the one rule that says
// which actions are taken over. No gRPC, no SQL.
#include <string>
#include <vector>

#include "domain/action.h"

namespace flyte::runs {

// What a recovery run keeps about the run it recovers (RunSpec.relation RECOVER + RunSpec.recover).
struct RunRecovery {
  std::string source_run;                        // run name, in the recovery run's org/project/domain
  std::vector<std::string> force_rerun_actions;  // actions that run again even though they succeeded
  bool operator==(const RunRecovery&) const = default;
};

// Whether a child enqueued in a recovery run may end at once with the outcome of `source`, the action of the same
// name in the recovered run, instead of running. The SDK names children deterministically from their parent, their
// task's identity (name, interface, code) and their inputs, so an equal name means the same call with the same
// inputs. Taken over: SUCCEEDED or RECOVERED (a recovery of a recovery) task actions with outputs, unless forced.
// The root never is: it is what decides which children to enqueue.
bool TakesOverSourceOutcome(const RunRecovery& recovery, const Action& child, const Action& source);

}  // namespace flyte::runs
