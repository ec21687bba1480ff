#pragma once
// executor configuration. Defaults equal running `executor` with no arguments: health and metrics on
// 0.0.0.0:8081, queue-service at localhost:8089, runs-service at localhost:8090, data root ./data, local process
// runtime. Unknown keys and bad values are errors, all reported at once.
#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "flyte/config/sections.h"

namespace flyte::executor {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8081;  // 0 picks a free port (tests)
};

struct Config {
  ServerConfig server;                                  // executor.server: /healthz, /readyz, /metrics
  std::string queue_endpoint = "localhost:8089";        // executor.queueEndpoint (host:port or a gRPC target)
  std::string runs_endpoint = "localhost:8090";         // executor.runsEndpoint
  std::string task_endpoint;                            // executor.taskEndpoint: tasks' _U_EP_OVERRIDE; "" = runs
  int max_concurrent_processes = 16;                    // executor.maxConcurrentProcesses (also the lease limit)
  std::string data_root = "./data";                     // executor.dataRoot: attempts' files and the journal
  std::chrono::milliseconds kill_grace_period{5000};    // executor.killGracePeriod: SIGTERM -> SIGKILL
  int lease_batch = 10;                                 // executor.leaseBatch: most leases per Acquire
  std::chrono::milliseconds acquire_wait{10000};        // executor.acquireWait: long-poll wait
  std::chrono::milliseconds heartbeat_interval{0};      // executor.heartbeatInterval: 0 = lease duration / 3
  std::string python_path;                              // executor.pythonPath: prepended to tasks' PATH
  config::LoggerConfig logger;                          // logger
};

// kInvalidArgument listing every problem, one per line ("executor.server.port: ...").
absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// "" = defaults. kNotFound if the file cannot be read; otherwise as ParseConfig.
absl::StatusOr<Config> LoadConfig(const std::string& file);

}  // namespace flyte::executor
