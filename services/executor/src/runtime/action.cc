#include "runtime/action.h"

#include "flyteidl2/common/phase.pb.h"
#include "flyteidl2/core/catalog.pb.h"

namespace flyte::executor {

namespace pb = flyteidl2::common;
static_assert(static_cast<int>(Phase::kQueued) == pb::ACTION_PHASE_QUEUED);
static_assert(static_cast<int>(Phase::kWaitingForResources) == pb::ACTION_PHASE_WAITING_FOR_RESOURCES);
static_assert(static_cast<int>(Phase::kInitializing) == pb::ACTION_PHASE_INITIALIZING);
static_assert(static_cast<int>(Phase::kRunning) == pb::ACTION_PHASE_RUNNING);
static_assert(static_cast<int>(Phase::kSucceeded) == pb::ACTION_PHASE_SUCCEEDED);
static_assert(static_cast<int>(Phase::kFailed) == pb::ACTION_PHASE_FAILED);
static_assert(static_cast<int>(Phase::kAborted) == pb::ACTION_PHASE_ABORTED);
static_assert(static_cast<int>(Phase::kTimedOut) == pb::ACTION_PHASE_TIMED_OUT);
static_assert(static_cast<int>(Phase::kPaused) == pb::ACTION_PHASE_PAUSED);
static_assert(static_cast<int>(Phase::kRecovered) == pb::ACTION_PHASE_RECOVERED);
static_assert(static_cast<int>(CacheStatus::kDisabled) == flyteidl2::core::CACHE_DISABLED);
static_assert(static_cast<int>(CacheStatus::kMiss) == flyteidl2::core::CACHE_MISS);
static_assert(static_cast<int>(CacheStatus::kHit) == flyteidl2::core::CACHE_HIT);
static_assert(static_cast<int>(CacheStatus::kPopulated) == flyteidl2::core::CACHE_POPULATED);
static_assert(static_cast<int>(CacheStatus::kLookupFailure) == flyteidl2::core::CACHE_LOOKUP_FAILURE);
static_assert(static_cast<int>(CacheStatus::kPutFailure) == flyteidl2::core::CACHE_PUT_FAILURE);
static_assert(static_cast<int>(CacheStatus::kSkipped) == flyteidl2::core::CACHE_SKIPPED);

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kUnspecified: return "UNSPECIFIED";
    case Phase::kQueued: return "QUEUED";
    case Phase::kWaitingForResources: return "WAITING_FOR_RESOURCES";
    case Phase::kInitializing: return "INITIALIZING";
    case Phase::kRunning: return "RUNNING";
    case Phase::kSucceeded: return "SUCCEEDED";
    case Phase::kFailed: return "FAILED";
    case Phase::kAborted: return "ABORTED";
    case Phase::kTimedOut: return "TIMED_OUT";
    case Phase::kPaused: return "PAUSED";
    case Phase::kRecovered: return "RECOVERED";
  }
  return "UNKNOWN";
}

bool IsTerminal(Phase phase) {
  switch (phase) {
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

std::string ActionKey::ToString() const {
  return org + "/" + project + "/" + domain + "/" + run_name + "/" + action_name;
}

}  // namespace flyte::executor
