#include "domain/phase.h"

#include <string>

namespace flyte::runs {

bool IsTerminal(Phase p) {
  switch (p) {
    case Phase::kSucceeded:
    case Phase::kFailed:
    case Phase::kAborted:
    case Phase::kTimedOut:
    case Phase::kRecovered:
      return true;
    default:
      return false;
  }
}

bool IsValidPhase(int value) { return value >= 0 && value <= static_cast<int>(Phase::kRecovered); }

std::string_view PhaseName(Phase p) {
  switch (p) {
    case Phase::kUnspecified: return "ACTION_PHASE_UNSPECIFIED";
    case Phase::kQueued: return "ACTION_PHASE_QUEUED";
    case Phase::kWaitingForResources: return "ACTION_PHASE_WAITING_FOR_RESOURCES";
    case Phase::kInitializing: return "ACTION_PHASE_INITIALIZING";
    case Phase::kRunning: return "ACTION_PHASE_RUNNING";
    case Phase::kSucceeded: return "ACTION_PHASE_SUCCEEDED";
    case Phase::kFailed: return "ACTION_PHASE_FAILED";
    case Phase::kAborted: return "ACTION_PHASE_ABORTED";
    case Phase::kTimedOut: return "ACTION_PHASE_TIMED_OUT";
    case Phase::kPaused: return "ACTION_PHASE_PAUSED";
    case Phase::kRecovered: return "ACTION_PHASE_RECOVERED";
  }
  return "ACTION_PHASE_UNKNOWN";
}

namespace {
bool IsRetryTarget(Phase p) {
  return p == Phase::kQueued || p == Phase::kWaitingForResources || p == Phase::kInitializing ||
         p == Phase::kRunning;
}
}  // namespace

absl::Status CheckTransition(Phase from, Phase to) {
  const bool legal = [&] {
    if (to == Phase::kUnspecified || !IsValidPhase(static_cast<int>(to))) return false;
    if (from == to) return true;  // no-op update (e.g. new logs or cluster events)
    if (IsTerminal(from)) {
      // The only way out of a terminal phase: the next attempt of a retryable failure.
      return (from == Phase::kFailed || from == Phase::kTimedOut) && IsRetryTarget(to);
    }
    if (to == Phase::kAborted) return true;
    if (from == Phase::kPaused) return to == Phase::kRunning || IsTerminal(to);  // resumed, or finished
    return static_cast<int>(to) > static_cast<int>(from);
  }();
  if (legal) return absl::OkStatus();
  return absl::FailedPreconditionError(std::string("illegal phase transition from ") +
                                       std::string(PhaseName(from)) + " to " + std::string(PhaseName(to)));
}

absl::StatusOr<Phase> NextActionPhase(Phase from, Phase to, bool new_attempt, bool retry_follows) {
  const bool live = !IsTerminal(from);
  if (live && retry_follows && (to == Phase::kFailed || to == Phase::kTimedOut)) return from;
  if (live && new_attempt && !IsTerminal(to) && IsValidPhase(static_cast<int>(to)) && to != Phase::kUnspecified) {
    return static_cast<int>(to) > static_cast<int>(from) ? to : from;
  }
  if (absl::Status legal = CheckTransition(from, to); !legal.ok()) return legal;
  return to;
}

}  // namespace flyte::runs
