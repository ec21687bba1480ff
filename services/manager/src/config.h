#pragma once
// flyte-manager configuration: the seed's manager YAML plus one pass-through section per hosted service.
//
//   manager:
//     runsService:  {host, port}        -> runs.server      (default 0.0.0.0:8090)
//     queueService: {host, port}        -> queue.server     (default 0.0.0.0:8089)
//     executor:     {host, healthProbePort} -> executor.server (default 0.0.0.0:8081: /healthz, /readyz, /metrics)
//     kubernetes:   {namespace, kubeconfig} -> queue.backend kubernetes + executor.runtime kubernetes in that
//                                          namespace (TaskActions and Pods; docs/kubernetes.md). Absent: local
//                                          processes, as without a cluster.
//   database: ...                       one database for all services (default SQLite ./flyte.db)
//   logger: ...
//   runs: ...                           runs-service options except `server` (docs/runs-service.md)
//   queue: ...                          queue-service options except `server` (docs/queue-service.md)
//   executor: ...                       executor options except `server`, `queueEndpoint`, `runsEndpoint`
//                                       (docs/executor.md): the manager points the executor at its own ports
//
// Each pass-through section is checked by that service's own parser, so its keys, defaults and messages are
// exactly the service's. Unknown keys anywhere are errors; every problem is reported at once.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "executor/src/config.h"
#include "flyte/config/sections.h"
#include "queue/src/config.h"
#include "runs/src/config.h"

namespace flyte::manager {

inline constexpr char kDefaultSqliteFile[] = "./flyte.db";

struct Config {
  runs::Config runs;          // database and logger are the manager's
  queue::Config queue;        // database and logger copied from the manager's
  executor::Config executor;  // queueEndpoint/runsEndpoint are filled in by Manager::Start from the bound ports
  db::DatabaseConfig& database() { return runs.database; }
  const db::DatabaseConfig& database() const { return runs.database; }
  const config::LoggerConfig& logger() const { return runs.logger; }
};

// The built-in defaults: what `flyte-manager` with no --config runs.
Config DefaultConfig();
// kInvalidArgument listing every problem, one per line ("manager.runsService.port: ...", "runs.sever: unknown key").
absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// "" = defaults. kNotFound if the file cannot be read; otherwise as ParseConfig.
absl::StatusOr<Config> LoadConfig(const std::string& file);

}  // namespace flyte::manager
