#pragma once
// Whole-stack modes (runs-service -> queue-service -> executor), driven through runs-service's gRPC port:
//   stack-latency  CreateRun of no-op runs at a modest rate, each watched to SUCCEEDED over one WatchRuns stream;
//                  then a burst of runs, time until all SUCCEEDED (sustained actions/s).
//   chain          a parent run (`sleep 600`) acts as the in-task controller's anchor; the driver enqueues child i
//                  via QueueService.EnqueueAction, waits for its SUCCEEDED on StateService.Watch, then child i+1.
//   fanout         the same parent; all children enqueued at once, wait for all SUCCEEDED.
// Each samples the executor's VmRSS (--executor-pid) every --rss-every completed actions.
#include "absl/status/statusor.h"
#include "flags.h"
#include "nlohmann/json.hpp"

namespace flyte::loadgen {

// Returns the report as JSON (also printed as text unless --quiet).
absl::StatusOr<nlohmann::json> RunStackLatency(const Flags& flags);
absl::StatusOr<nlohmann::json> RunChain(const Flags& flags);
absl::StatusOr<nlohmann::json> RunFanout(const Flags& flags);

// p in [0, 100] of `values` (sorted in place); 0 when empty. Nearest-rank.
double Percentile(std::vector<double>* values, double p);

}  // namespace flyte::loadgen
