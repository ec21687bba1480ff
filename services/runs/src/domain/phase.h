#pragma once
// The action phase machine: the one place that says which phase changes are legal.
#include <string_view>

#include "absl/status/status.h"

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

}  // namespace flyte::runs
