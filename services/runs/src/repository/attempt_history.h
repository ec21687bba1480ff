#pragma once
// An attempt's phase history and cluster events as the action_attempts row keeps them (migration 0004): JSON text
// in its phase_history and cluster_events columns, so a state report rewrites one row instead of adding rows to
// two more tables.
//   phase_history:  [[phase, start_us, end_us or null], ...]         oldest first
//   cluster_events: [[occurred_us, type, reason, message], ...]       in the order they were reported
// (phase and type are the flyteidl2 enum numbers, times unix microseconds.)
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/action.h"

namespace flyte::runs {

std::string EncodePhaseHistory(const std::vector<PhaseTransition>& history);
std::string EncodeClusterEvents(const std::vector<ClusterEvent>& events);

// kDataLoss naming the column when the text is not what the encoders write.
absl::StatusOr<std::vector<PhaseTransition>> DecodePhaseHistory(std::string_view json);
absl::StatusOr<std::vector<ClusterEvent>> DecodeClusterEvents(std::string_view json);

}  // namespace flyte::runs
