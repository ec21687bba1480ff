#include "domain/recovery.h"

#include <algorithm>

namespace flyte::runs {

bool TakesOverSourceOutcome(const RunRecovery& recovery, const Action& child, const Action& source) {
  if (!child.parent || child.key.name == kRootActionName) return false;
  if (child.type != ActionType::kTask || source.type != ActionType::kTask) return false;
  const auto& forced = recovery.force_rerun_actions;
  if (std::find(forced.begin(), forced.end(), child.key.name) != forced.end()) return false;
  if (source.phase != Phase::kSucceeded && source.phase != Phase::kRecovered) return false;
  // Nothing to hand to the parent: run it rather than pretend.
  return !source.output_uri.empty();
}

}  // namespace flyte::runs
