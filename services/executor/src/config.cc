#include "config.h"

#include "flyte/config/load.h"
#include "flyte/config/yaml.h"

namespace flyte::executor {
namespace {

// The whole schema; libs/config reads the file, reports unknown top-level keys and collects the problems.
void ReadSchema(config::Section& root, Config* out) {
  Config& cfg = *out;
  config::Problems& problems = *root.problems();
  if (std::optional<config::Section> ex = root.Child("executor")) {
    config::ParseServer(*ex, "server", &cfg.server.host, &cfg.server.port);
    ex->String("queueEndpoint", &cfg.queue_endpoint);
    ex->String("runsEndpoint", &cfg.runs_endpoint);
    ex->String("taskEndpoint", &cfg.task_endpoint);
    ex->Int("maxConcurrentProcesses", &cfg.max_concurrent_processes, 1, 10000);
    ex->String("dataRoot", &cfg.data_root);
    ex->Duration("killGracePeriod", &cfg.kill_grace_period);
    ex->Int("leaseBatch", &cfg.lease_batch, 1, 100);
    ex->Duration("acquireWait", &cfg.acquire_wait);
    ex->Duration("heartbeatInterval", &cfg.heartbeat_interval);
    ex->String("pythonPath", &cfg.python_path);
    ex->Finish();
    if (cfg.queue_endpoint.empty()) problems.Add("executor.queueEndpoint", "must not be empty");
    if (cfg.runs_endpoint.empty()) problems.Add("executor.runsEndpoint", "must not be empty");
    if (cfg.data_root.empty()) problems.Add("executor.dataRoot", "must not be empty");
    if (cfg.acquire_wait > std::chrono::seconds(30)) {
      problems.Add("executor.acquireWait", "must be at most 30s (queue-service caps the wait there)");
    }
  }
  if (std::optional<config::Section> logger = root.Child("logger")) {
    config::ParseLogger(*logger, &cfg.logger);
  }
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml) {
  return config::ParseConfigText(yaml, Config{}, &ReadSchema);
}

absl::StatusOr<Config> LoadConfig(const std::string& file) {
  return config::LoadConfigFile(file, Config{}, &ReadSchema);
}

}  // namespace flyte::executor
