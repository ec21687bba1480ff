// flyte-loadgen: load generator for runs-service over gRPC and Connect (see docs/benchmarks.md).
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "flags.h"
#include "scenarios.h"
#include "stack.h"

namespace {

constexpr char kUsage[] = R"(usage: flyte-loadgen MODE [flags]
modes:
  create  CreateRun as fast as --concurrency allows (--rate 0) or at a fixed --rate
  get     GetRunDetails of runs created in a warm-up, at --rate (default 500/s)
  list    ListRuns (limit --limit, default 50) of the project, at --rate (default 500/s)
  watch   hold --streams WatchRuns streams, create --events runs at --event-rate, measure delivery
 whole stack (runs-service -> queue-service -> executor; gRPC on --target = runs-service):
  stack-latency  --runs 200 paced runs at --rate 10/s watched (WatchRuns) to SUCCEEDED, then --burst 1000
                 runs with --concurrency 16: time until all SUCCEEDED
  chain          --steps 500 sequential children of one `sleep 600` parent (EnqueueAction, StateService.Watch)
  fanout         --children 6000 children of one parent enqueued on --concurrency 8 threads, wait for all
  stack flags: --executor-pid PID --rss-every 1000 --storage-prefix file:///data/ --command true
               --wait-timeout 900s
common flags:
  --target host:port (127.0.0.1:8090)  --transport grpc|connect (watch: connect|grpc|both)
  --org local --project flytesnacks --domain development  --timeout 10s
  --connections N (Connect keep-alive connections for unary calls; default = --concurrency)
  --channels 4 (gRPC channels)  --io-threads 2 (Connect client threads)
  --json FILE (also write the report as JSON; '-' = stdout only JSON)  --quiet
rate flags: --rate R (0 = closed loop) --duration 10s --concurrency 32 [--warmup 200] [--limit 50] [--server-pid PID]
watch flags: --streams 5000 --events 20 --event-rate 2 --server-pid PID --open-rate 2000 --open-timeout 60s
             --drain 10s --create-transport grpc --scope project|org
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace flyte::loadgen;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cerr << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string mode = argv[1];
  auto flags = Flags::Parse(std::vector<std::string>(argv + 2, argv + argc), {"quiet"});
  if (!flags.ok()) {
    std::cerr << "flyte-loadgen: " << flags.status().message() << "\n" << kUsage;
    return 2;
  }
  RaiseFileLimit();
  if (mode == "stack-latency" || mode == "chain" || mode == "fanout") {
    absl::StatusOr<nlohmann::json> out = mode == "chain"    ? RunChain(*flags)
                                         : mode == "fanout" ? RunFanout(*flags)
                                                            : RunStackLatency(*flags);
    if (!out.ok()) {
      std::cerr << "flyte-loadgen " << mode << ": " << out.status().ToString() << "\n";
      return out.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    const std::string json_path = flags->Str("json", "");
    if (json_path == "-") std::cout << out->dump(2) << "\n";
    else if (!json_path.empty()) std::ofstream(json_path) << out->dump(2) << "\n";
    return 0;
  }
  absl::StatusOr<Report> report;
  if (mode == "create") report = RunCreate(*flags);
  else if (mode == "get") report = RunGet(*flags);
  else if (mode == "list") report = RunList(*flags);
  else if (mode == "watch") report = RunWatch(*flags);
  else {
    std::cerr << "flyte-loadgen: unknown mode '" << mode << "'\n" << kUsage;
    return 2;
  }
  if (!report.ok()) {
    std::cerr << "flyte-loadgen " << mode << ": " << report.status().ToString() << "\n";
    return report.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const std::string json_path = flags->Str("json", "");
  const std::string json = report->ToJson().dump(2);
  if (json_path == "-") {
    std::cout << json << "\n";
  } else {
    if (!flags->Bool("quiet")) std::cout << report->ToTable() << std::flush;
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << json << "\n";
      if (!out) {
        std::cerr << "flyte-loadgen: cannot write " << json_path << "\n";
        return 1;
      }
    }
  }
  return 0;
}
