#pragma once
// What the RunService modes (scenarios.cc, watch_scenario.cc) share: the common flags, clients built from them,
// warm-up runs, and turning a load's Recorder into the Report.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client.h"
#include "flags.h"
#include "load.h"
#include "scenarios.h"
#include "stats.h"

namespace flyte::loadgen {

// Steady-clock nanoseconds.
int64_t NowNs();
// `extra` plus the flags every mode understands.
std::vector<std::string> With(std::vector<std::string> extra);
Scope ScopeFrom(const Flags& f);
absl::StatusOr<ClientOptions> ClientOptionsFrom(const Flags& f, int default_connections);
absl::StatusOr<std::unique_ptr<RunsClient>> MakeClient(const std::string& transport, const ClientOptions& o);
std::string TargetOf(const ClientOptions& o);
// Creates `n` runs named prefix-w<i> with up to 16 in flight; returns the names that were created.
std::vector<std::string> WarmUp(RunsClient* client, const Scope& scope, const std::string& prefix, int n,
                                Recorder* errors);
Report BaseReport(const std::string& mode, const RunsClient& client, const ClientOptions& o, double rate);
// Measures the server's CPU use around RunLoad when --server-pid is given (a machine-load-independent figure).
LoadResult RunMeasured(const Flags& f, const LoadOptions& lo, const IssueFn& issue, Recorder* rec, Report* report);
void Finish(Report* report, Recorder* rec, const LoadResult& lr);

struct FixedRateFlags {
  double rate;
  std::chrono::nanoseconds duration;
  int concurrency;
};

absl::StatusOr<FixedRateFlags> RateFlags(const Flags& f, double default_rate);

}  // namespace flyte::loadgen
