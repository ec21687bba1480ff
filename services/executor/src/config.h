#pragma once
// executor configuration. Defaults equal running `executor` with no arguments: health and metrics on
// 0.0.0.0:8081, queue-service at localhost:8089, runs-service at localhost:8090, data root ./data, local process
// runtime. Unknown keys and bad values are errors, all reported at once.
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "flyte/config/sections.h"

namespace flyte::executor {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8081;  // 0 picks a free port (tests)
};

// How actions run: `local` (leases from queue-service, child processes on this host) or `kubernetes` (a controller
// reconciling TaskAction resources into Pods; docs/kubernetes.md).
enum class Runtime { kLocal, kKubernetes };

// executor.kubernetes: the controller and the Pods it creates.
struct KubernetesRuntimeConfig {
  std::string ns = "flyte";           // namespace: TaskActions watched and Pods created here
  std::string kubeconfig;             // "" = $KUBECONFIG, in-cluster, or ~/.kube/config
  std::string service_account;        // serviceAccountName of task Pods ("" = the namespace's default)
  nlohmann::json node_selector = nlohmann::json::object();  // nodeSelector of task Pods
  nlohmann::json tolerations = nlohmann::json::array();     // tolerations of task Pods
  std::vector<std::string> image_pull_secrets;              // imagePullSecrets of task Pods
  nlohmann::json default_resources = nlohmann::json::object();  // {requests, limits} when the task gives none
  std::string data_volume_claim;      // PersistentVolumeClaim mounted at executor.dataRoot in task Pods
  bool task_tmp_on_data_volume = true;  // with a claim: task Pods' /tmp = <attempt dir>/tmp on it
  int workers = 8;                    // reconciles at once
  std::chrono::milliseconds image_pull_grace{120000};   // ErrImagePull/ImagePullBackOff this long -> attempt fails
  std::chrono::milliseconds resync{300000};             // every TaskAction is reconciled again this often
  std::chrono::milliseconds retention{3600000};          // finished runs' TaskActions deleted after this; 0 = keep
  bool leader_election = true;
  std::string lease_name = "flyte-executor";
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

struct Config {
  ServerConfig server;                                  // executor.server: /healthz, /readyz, /metrics
  Runtime runtime = Runtime::kLocal;                    // executor.runtime: local | kubernetes
  KubernetesRuntimeConfig kubernetes;                   // executor.kubernetes
  std::string queue_endpoint = "localhost:8089";        // executor.queueEndpoint (host:port or a gRPC target)
  std::string runs_endpoint = "localhost:8090";         // executor.runsEndpoint
  std::string task_endpoint;                            // executor.taskEndpoint: tasks' _U_EP_OVERRIDE; "" = runs
  // executor.internalToken (secret: internalToken / internalTokenEnv / internalTokenPath): sent to runs-service's
  // SecretResolveService (its runs.internalToken); "" = none (enough only when runs-service is on this host).
  std::string internal_token;
  int max_concurrent_processes = 16;                    // executor.maxConcurrentProcesses (also the lease limit)
  std::string data_root = "./data";                     // executor.dataRoot: attempts' files and the journal
  std::chrono::milliseconds kill_grace_period{5000};    // executor.killGracePeriod: SIGTERM -> SIGKILL
  int lease_batch = 10;                                 // executor.leaseBatch: most leases per Acquire
  std::chrono::milliseconds acquire_wait{10000};        // executor.acquireWait: long-poll wait
  std::chrono::milliseconds heartbeat_interval{0};      // executor.heartbeatInterval: 0 = lease duration / 3
  std::string python_path;                              // executor.pythonPath: prepended to tasks' PATH
  bool warm_python = true;                              // executor.warmPython: SDK tasks fork from a warm zygote
  config::LoggerConfig logger;                          // logger
};

// kInvalidArgument listing every problem, one per line ("executor.server.port: ...").
absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// "" = defaults. kNotFound if the file cannot be read; otherwise as ParseConfig.
absl::StatusOr<Config> LoadConfig(const std::string& file);

}  // namespace flyte::executor
