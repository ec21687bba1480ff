#pragma once
// queue-service configuration. Defaults equal running `queue-service` with no arguments (0.0.0.0:8089, SQLite
// ./queue.db). Unknown keys and bad values are errors, all reported at once.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "flyte/config/sections.h"
#include "flyte/db/config.h"

namespace flyte::queue {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8089;  // 0 picks a free port (tests)
};

// Where queued actions live: `sql` (the database below; executors take leases) or `kubernetes` (TaskAction
// custom resources an executor with executor.runtime kubernetes reconciles; no database is used).
enum class Backend { kSql, kKubernetes };

struct KubernetesConfig {
  std::string ns = "flyte";  // queue.kubernetes.namespace: where TaskActions are created
  std::string kubeconfig;    // queue.kubernetes.kubeconfig: "" = $KUBECONFIG, in-cluster, or ~/.kube/config
};

struct Config {
  ServerConfig server;                                          // queue.server
  Backend backend = Backend::kSql;                              // queue.backend: sql | kubernetes
  KubernetesConfig kubernetes;                                  // queue.kubernetes
  std::chrono::milliseconds lease_duration{15000};              // queue.leaseDuration
  int max_wait_ms = 30000;                                      // queue.maxWaitMs: cap on Acquire's wait_ms
  std::chrono::milliseconds poll_interval{1000};                // queue.pollInterval: re-check while waiting
  std::chrono::milliseconds done_retention{600000};             // queue.doneRetention: keep DONE rows this long
  std::chrono::milliseconds maintenance_interval{5000};         // queue.maintenanceInterval: gauges + cleanup
  int worker_threads = 8;                                       // queue.workerThreads: database workers
  int max_waiting_acquires = 32;                                // queue.maxWaitingAcquires: parked long-polls
  size_t max_queued_requests = 1000;                            // queue.maxQueuedRequests
  size_t max_message_bytes = 4 * 1024 * 1024;                   // queue.maxMessageBytes
  db::DatabaseConfig database = DefaultDatabase();              // database
  config::LoggerConfig logger;                                  // logger

  static db::DatabaseConfig DefaultDatabase();  // SQLite ./queue.db
};

// kInvalidArgument listing every problem, one per line ("queue.leaseDuration: ...").
absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// "" = defaults. kNotFound if the file cannot be read; otherwise as ParseConfig.
absl::StatusOr<Config> LoadConfig(const std::string& file);

}  // namespace flyte::queue
