#include "config.h"

#include "flyte/config/load.h"
#include "flyte/config/yaml.h"
#include "flyte/kube/yaml_json.h"

namespace flyte::executor {
namespace {

// A Kubernetes field given in YAML, kept as JSON for the Pod; `check` names what shape it must have.
void KubernetesField(config::Section& section, const char* key, nlohmann::json* out,
                     bool (*check)(const nlohmann::json&), const char* shape) {
  std::string yaml;
  if (!section.RawYaml(key, &yaml)) return;
  absl::StatusOr<nlohmann::json> json = kube::YamlTextToJson(yaml);
  if (!json.ok() || !check(*json)) {
    section.problems()->Add(section.path() + "." + key, std::string("expected ") + shape);
    return;
  }
  *out = std::move(*json);
}

bool StringMap(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return false;
  }
  return true;
}
bool ListOfMappings(const nlohmann::json& j) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_object()) return false;
  }
  return true;
}
bool Resources(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if ((k != "requests" && k != "limits") || !v.is_object()) return false;
    for (const auto& [name, q] : v.items()) {
      if (!q.is_string() && !q.is_number()) return false;
    }
  }
  return true;
}
bool StringList(const nlohmann::json& j) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_string()) return false;
  }
  return true;
}

void ParseKubernetes(config::Section& k, KubernetesRuntimeConfig* out) {
  config::Problems& problems = *k.problems();
  k.String("namespace", &out->ns);
  k.String("kubeconfig", &out->kubeconfig);
  k.String("serviceAccountName", &out->service_account);
  KubernetesField(k, "nodeSelector", &out->node_selector, &StringMap, "a mapping of strings");
  KubernetesField(k, "tolerations", &out->tolerations, &ListOfMappings, "a list of tolerations");
  nlohmann::json secrets = nlohmann::json::array();
  KubernetesField(k, "imagePullSecrets", &secrets, &StringList, "a list of Secret names");
  for (const auto& s : secrets) out->image_pull_secrets.push_back(s.get<std::string>());
  KubernetesField(k, "defaultResources", &out->default_resources, &Resources,
                  "{requests: {cpu, memory, ...}, limits: {...}}");
  k.String("dataVolumeClaim", &out->data_volume_claim);
  k.Bool("taskTmpOnDataVolume", &out->task_tmp_on_data_volume);
  k.Int("workers", &out->workers, 1, 256);
  k.Duration("imagePullGracePeriod", &out->image_pull_grace);
  k.Duration("resyncPeriod", &out->resync);
  k.Duration("retention", &out->retention);
  if (std::optional<config::Section> le = k.Child("leaderElection")) {
    le->Bool("enabled", &out->leader_election);
    le->String("leaseName", &out->lease_name);
    le->Duration("leaseDuration", &out->lease_duration);
    le->Duration("renewDeadline", &out->renew_deadline);
    le->Duration("retryPeriod", &out->retry_period);
    le->Finish();
    if (out->lease_name.empty()) problems.Add(le->path() + ".leaseName", "must not be empty");
    if (out->renew_deadline >= out->lease_duration) {
      problems.Add(le->path() + ".renewDeadline", "must be shorter than leaseDuration");
    }
    if (out->retry_period >= out->renew_deadline) {
      problems.Add(le->path() + ".retryPeriod", "must be shorter than renewDeadline");
    }
  }
  k.Finish();
  if (out->ns.empty()) problems.Add(k.path() + ".namespace", "must not be empty");
  if (out->resync < std::chrono::seconds(1)) problems.Add(k.path() + ".resyncPeriod", "must be at least 1s");
}

// The whole schema; libs/config reads the file, reports unknown top-level keys and collects the problems.
void ReadSchema(config::Section& root, Config* out) {
  Config& cfg = *out;
  config::Problems& problems = *root.problems();
  if (std::optional<config::Section> ex = root.Child("executor")) {
    config::ParseServer(*ex, "server", &cfg.server.host, &cfg.server.port);
    std::string runtime = "local";
    ex->Enum("runtime", &runtime, {"local", "kubernetes"});
    cfg.runtime = runtime == "kubernetes" ? Runtime::kKubernetes : Runtime::kLocal;
    if (std::optional<config::Section> k = ex->Child("kubernetes")) {
      ParseKubernetes(*k, &cfg.kubernetes);
      if (cfg.runtime != Runtime::kKubernetes) {
        problems.Add("executor.kubernetes", "only used with executor.runtime: kubernetes");
      }
    }
    ex->String("queueEndpoint", &cfg.queue_endpoint);
    ex->String("runsEndpoint", &cfg.runs_endpoint);
    ex->String("taskEndpoint", &cfg.task_endpoint);
    ex->Secret("internalToken", &cfg.internal_token);
    ex->Int("maxConcurrentProcesses", &cfg.max_concurrent_processes, 1, 10000);
    ex->String("dataRoot", &cfg.data_root);
    ex->Duration("killGracePeriod", &cfg.kill_grace_period);
    ex->Int("leaseBatch", &cfg.lease_batch, 1, 100);
    ex->Duration("acquireWait", &cfg.acquire_wait);
    ex->Duration("heartbeatInterval", &cfg.heartbeat_interval);
    ex->String("pythonPath", &cfg.python_path);
    ex->Bool("warmPython", &cfg.warm_python);
    ex->Finish();
    if (cfg.queue_endpoint.empty()) problems.Add("executor.queueEndpoint", "must not be empty");
    if (cfg.runs_endpoint.empty()) problems.Add("executor.runsEndpoint", "must not be empty");
    if (cfg.data_root.empty()) problems.Add("executor.dataRoot", "must not be empty");
    if (cfg.runtime == Runtime::kKubernetes && (cfg.data_root.empty() || cfg.data_root[0] != '/')) {
      problems.Add("executor.dataRoot", "must be an absolute path with executor.runtime kubernetes: it is where "
                   "task Pods mount the shared data volume");
    }
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
