#pragma once
// The action phase machine: the one place that says which phase changes are legal.
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flyte::runs {

// Numbering equals flyteidl2.common.ActionPhase so conversions are casts.
enum class Phase : int {
  kUnspecified = 0,
  kQueued = 1,
  kWaitingForResources = 2,
  kInitializing = 3,
  kRunning = 4,
  kSucceeded = 5,
  kFailed = 6,
  kAborted = 7,
  kTimedOut = 8,
  kPaused = 9,
  kRecovered = 10,
};

bool IsTerminal(Phase p);  // SUCCEEDED, FAILED, ABORTED, TIMED_OUT, RECOVERED
bool IsValidPhase(int value);
std::string_view PhaseName(Phase p);  // "ACTION_PHASE_RUNNING"

// OK if an action in `from` may move to `to`: forward only (same phase is a no-op update and allowed), except a
// retry out of FAILED/TIMED_OUT (back to QUEUED..RUNNING for the next attempt), PAUSED -> RUNNING, and ABORTED from
// any non-terminal phase. kFailedPrecondition naming both phases otherwise (e.g. SUCCEEDED -> RUNNING).
absl::Status CheckTransition(Phase from, Phase to);

// The phase an action in `from` shows after a report that one of its attempts moved to `to`, or
// kFailedPrecondition as CheckTransition. The attempt's own row always takes `to`; the action differs in two cases:
//  - `retry_follows` (the executor says another attempt follows this FAILED/TIMED_OUT one) on a live action: the
//    failure is the attempt's, the action keeps `from`, so no client ever sees it FAILED while retries remain;
//  - `new_attempt` (the report names an attempt above the action's count) on a live action: any phase is legal,
//    and the action keeps the later of `from` and `to` (a retry's INITIALIZING after RUNNING moves nothing back).
// Otherwise the result is `to`, legal as CheckTransition says.
absl::StatusOr<Phase> NextActionPhase(Phase from, Phase to, bool new_attempt, bool retry_follows);

}  // namespace flyte::runs
