#include "config.h"

#include "flyte/config/load.h"
#include "flyte/config/yaml.h"

namespace flyte::queue {
namespace {

using std::chrono::milliseconds;

void AtLeast(config::Problems& problems, const std::string& path, milliseconds value, milliseconds min) {
  if (value < min) problems.Add(path, "must be at least " + config::FormatDuration(min));
}

// The whole schema; libs/config reads the file, reports unknown top-level keys and collects the problems.
void ReadSchema(config::Section& root, Config* out) {
  Config& cfg = *out;
  config::Problems& problems = *root.problems();
  if (std::optional<config::Section> queue = root.Child("queue")) {
    config::ParseServer(*queue, "server", &cfg.server.host, &cfg.server.port);
    std::string backend = "sql";
    queue->Enum("backend", &backend, {"sql", "kubernetes"});
    cfg.backend = backend == "kubernetes" ? Backend::kKubernetes : Backend::kSql;
    if (std::optional<config::Section> kube = queue->Child("kubernetes")) {
      kube->String("namespace", &cfg.kubernetes.ns);
      kube->String("kubeconfig", &cfg.kubernetes.kubeconfig);
      kube->Finish();
      if (cfg.kubernetes.ns.empty()) problems.Add("queue.kubernetes.namespace", "must not be empty");
      if (cfg.backend != Backend::kKubernetes) {
        problems.Add("queue.kubernetes", "only used with queue.backend: kubernetes");
      }
    }
    queue->Duration("leaseDuration", &cfg.lease_duration);
    queue->Int("maxWaitMs", &cfg.max_wait_ms, 0, 300000);
    queue->Duration("pollInterval", &cfg.poll_interval);
    queue->Duration("doneRetention", &cfg.done_retention);
    queue->Duration("maintenanceInterval", &cfg.maintenance_interval);
    queue->Int("workerThreads", &cfg.worker_threads, 1, 1024);
    queue->Int("maxWaitingAcquires", &cfg.max_waiting_acquires, 0, 10000);
    queue->Size("maxQueuedRequests", &cfg.max_queued_requests, 1, 10'000'000);
    queue->Size("maxMessageBytes", &cfg.max_message_bytes, 1024, 1ull << 30);
    queue->Finish();
    AtLeast(problems, "queue.leaseDuration", cfg.lease_duration, milliseconds(1000));
    AtLeast(problems, "queue.pollInterval", cfg.poll_interval, milliseconds(10));
    AtLeast(problems, "queue.maintenanceInterval", cfg.maintenance_interval, milliseconds(100));
  }
  if (std::optional<config::Section> database = root.Child("database")) {
    config::ParseDatabase(*database, &cfg.database);
    if (cfg.backend == Backend::kKubernetes) {
      problems.Add("database", "not used with queue.backend: kubernetes (the queue is the TaskAction resources)");
    }
  }
  if (std::optional<config::Section> logger = root.Child("logger")) {
    config::ParseLogger(*logger, &cfg.logger);
  }
}

}  // namespace

db::DatabaseConfig Config::DefaultDatabase() {
  db::DatabaseConfig db = config::DefaultDatabase();
  db.sqlite = db::SqliteConfig{};
  db.sqlite->file = "./queue.db";
  return db;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml) {
  return config::ParseConfigText(yaml, Config{}, &ReadSchema);
}

absl::StatusOr<Config> LoadConfig(const std::string& file) {
  return config::LoadConfigFile(file, Config{}, &ReadSchema);
}

}  // namespace flyte::queue
