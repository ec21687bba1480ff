#include "config.h"

#include "flyte/config/yaml.h"

namespace flyte::executor {
namespace {

absl::StatusOr<Config> FromDocument(const config::Document& doc) {
  Config cfg;
  config::Problems problems;
  config::Section root = doc.Root(&problems);
  if (std::optional<config::Section> ex = root.Child("executor")) {
    if (std::optional<config::Section> server = ex->Child("server")) {
      server->String("host", &cfg.server.host);
      server->Int("port", &cfg.server.port, 0, 65535);
      server->Finish();
      if (cfg.server.host.empty()) problems.Add("executor.server.host", "must not be empty");
    }
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
  root.Finish();
  if (!problems.ok()) return problems.ToStatus();
  return cfg;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml) {
  absl::StatusOr<config::Document> doc = config::Document::Parse(yaml);
  if (!doc.ok()) return doc.status();
  return FromDocument(*doc);
}

absl::StatusOr<Config> LoadConfig(const std::string& file) {
  if (file.empty()) return Config{};
  absl::StatusOr<config::Document> doc = config::Document::LoadFile(file);
  if (!doc.ok()) return doc.status();
  return FromDocument(*doc);
}

}  // namespace flyte::executor
