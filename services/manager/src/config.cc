#include "config.h"

#include <filesystem>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "flyte/config/yaml.h"

namespace flyte::manager {
namespace {

// Lines of a service parser's kInvalidArgument message (one problem per line) go into the manager's list.
void Collect(const absl::Status& status, std::vector<std::string>* problems) {
  std::istringstream lines{std::string(status.message())};
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) problems->push_back(line);
  }
}

// A pass-through section, copied with the keys the manager sets itself taken out (each one is a problem: it
// would be silently overridden otherwise).
YAML::Node PassThrough(const YAML::Node& root, const std::string& key, const std::vector<std::pair<std::string,
                       std::string>>& owned, std::vector<std::string>* problems) {
  if (!root[key]) return YAML::Node();
  YAML::Node copy = YAML::Clone(root[key]);
  if (!copy.IsMap()) return copy;  // the service's parser reports it
  for (const auto& [name, instead] : owned) {
    if (copy[name]) {
      problems->push_back(key + "." + name + ": set by flyte-manager; use " + instead + " instead");
      copy.remove(name);
    }
  }
  return copy;
}

// `database:` with SQLite's file defaulting to the manager's (one file for every service).
YAML::Node Database(const YAML::Node& root) {
  YAML::Node db = root["database"] ? YAML::Clone(root["database"]) : YAML::Node(YAML::NodeType::Map);
  if (db.IsNull()) db = YAML::Node(YAML::NodeType::Map);
  if (!db.IsMap()) return db;
  const bool postgres = static_cast<bool>(db["postgres"]) ||
                        (db["type"] && db["type"].IsScalar() && db["type"].Scalar() == "postgres");
  if (postgres) return db;
  if (!db["sqlite"] || db["sqlite"].IsNull()) db["sqlite"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node sqlite = db["sqlite"];
  if (sqlite.IsMap() && !sqlite["file"]) sqlite["file"] = kDefaultSqliteFile;
  return db;
}

std::string ToYaml(const YAML::Node& doc) {
  YAML::Emitter out;
  out << doc;
  return out.c_str();
}

absl::StatusOr<Config> FromYaml(std::string_view yaml) {
  // 1. The manager's own keys, and the top level's unknown keys.
  absl::StatusOr<config::Document> doc = config::Document::Parse(yaml);
  if (!doc.ok()) return doc.status();
  Config cfg = DefaultConfig();
  config::Problems own;
  struct KubernetesSection {
    std::string ns = "flyte";
    std::string kubeconfig;
  };
  std::optional<KubernetesSection> kubernetes;
  config::Section root = doc->Root(&own);
  if (std::optional<config::Section> manager = root.Child("manager")) {
    config::ParseServer(*manager, "runsService", &cfg.runs.server.host, &cfg.runs.server.port);
    config::ParseServer(*manager, "queueService", &cfg.queue.server.host, &cfg.queue.server.port);
    if (std::optional<config::Section> executor = manager->Child("executor")) {
      executor->String("host", &cfg.executor.server.host);
      executor->Int("healthProbePort", &cfg.executor.server.port, 0, 65535);
      executor->Finish();
      if (cfg.executor.server.host.empty()) own.Add("manager.executor.host", "must not be empty");
    }
    if (std::optional<config::Section> kube = manager->Child("kubernetes")) {
      kubernetes = KubernetesSection{};
      kube->String("namespace", &kubernetes->ns);
      kube->String("kubeconfig", &kubernetes->kubeconfig);
      kube->Finish();
      if (kubernetes->ns.empty()) own.Add("manager.kubernetes.namespace", "must not be empty");
    }
    manager->Finish();
  }
  for (const char* key : {"database", "logger", "runs", "queue", "executor"}) root.Ignore(key);
  root.Finish();

  // 2. Each service's section through that service's parser.
  std::vector<std::string> problems = own.list();
  YAML::Node top;
  try {
    top = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(e.what());  // unreachable: Document::Parse accepted it
  }
  if (!top.IsMap()) top = YAML::Node(YAML::NodeType::Map);
  const YAML::Node& in = top;

  YAML::Node runs_doc(YAML::NodeType::Map);
  YAML::Node runs = PassThrough(in, "runs", {{"server", "manager.runsService"}}, &problems);
  if (runs) runs_doc["runs"] = runs;
  runs_doc["database"] = Database(in);
  if (in["logger"]) runs_doc["logger"] = YAML::Clone(in["logger"]);
  absl::StatusOr<runs::Config> runs_cfg = runs::ParseConfig(ToYaml(runs_doc));
  if (runs_cfg.ok()) {
    runs_cfg->server = cfg.runs.server;
    cfg.runs = std::move(*runs_cfg);
    // Tasks run as Pods: TailLogs reads their logs through the API server, unless runs.logs.source says otherwise.
    const YAML::Node logs = in["runs"] && in["runs"].IsMap() ? in["runs"]["logs"] : YAML::Node();
    if (kubernetes && logs && logs.IsMap() && logs["kubernetes"]) {
      problems.push_back("runs.logs.kubernetes: set by flyte-manager; use manager.kubernetes instead");
    }
    if (kubernetes && !(logs && logs.IsMap() && logs["source"])) {
      cfg.runs.logs.source = runs::LogSourceKind::kKubernetes;
      cfg.runs.logs.kubernetes.ns = kubernetes->ns;
      cfg.runs.logs.kubernetes.kubeconfig = kubernetes->kubeconfig;
    }
  } else {
    Collect(runs_cfg.status(), &problems);
  }

  // manager.kubernetes: the queue becomes TaskActions and the executor reconciles them into Pods in that namespace
  // (runs stay in the manager's database). The sections may add their own Kubernetes options (e.g.
  // executor.kubernetes.serviceAccountName) but not the ones the manager sets.
  std::vector<std::pair<std::string, std::string>> queue_owned = {{"server", "manager.queueService"}};
  std::vector<std::pair<std::string, std::string>> executor_owned = {{"server", "manager.executor"},
                                                                     {"queueEndpoint", "manager.queueService"},
                                                                     {"runsEndpoint", "manager.runsService"},
                                                                     {"internalToken", "runs.internalToken"},
                                                                     {"internalTokenEnv", "runs.internalTokenEnv"},
                                                                     {"internalTokenPath", "runs.internalTokenPath"}};
  if (kubernetes) {
    queue_owned.emplace_back("backend", "manager.kubernetes");
    executor_owned.emplace_back("runtime", "manager.kubernetes");
  }
  auto kube_section = [&](YAML::Node& service, const std::string& path) {
    if (!kubernetes) return;
    if (!service || !service.IsMap()) service = YAML::Node(YAML::NodeType::Map);
    YAML::Node k = service["kubernetes"];
    if (!k || k.IsNull()) k = YAML::Node(YAML::NodeType::Map);
    if (!k.IsMap()) return;  // the service's parser reports it
    for (const char* key : {"namespace", "kubeconfig"}) {
      if (k[key]) problems.push_back(path + ".kubernetes." + key + ": set by flyte-manager; use manager.kubernetes." + key + " instead");
    }
    k["namespace"] = kubernetes->ns;
    if (!kubernetes->kubeconfig.empty()) k["kubeconfig"] = kubernetes->kubeconfig;
    service["kubernetes"] = k;
  };

  YAML::Node queue_doc(YAML::NodeType::Map);
  YAML::Node queue = PassThrough(in, "queue", queue_owned, &problems);
  kube_section(queue, "queue");
  if (kubernetes) queue["backend"] = "kubernetes";
  if (queue) queue_doc["queue"] = queue;
  absl::StatusOr<queue::Config> queue_cfg = queue::ParseConfig(ToYaml(queue_doc));
  if (queue_cfg.ok()) {
    queue_cfg->server = cfg.queue.server;
    cfg.queue = std::move(*queue_cfg);
  } else {
    Collect(queue_cfg.status(), &problems);
  }

  YAML::Node executor_doc(YAML::NodeType::Map);
  YAML::Node executor = PassThrough(in, "executor", executor_owned, &problems);
  kube_section(executor, "executor");
  if (kubernetes) {
    executor["runtime"] = "kubernetes";
    // Task Pods mount the shared volume at the data root: an absolute path, whatever the manager's directory.
    std::string root = executor["dataRoot"] && executor["dataRoot"].IsScalar() ? executor["dataRoot"].Scalar() : "./data";
    executor["dataRoot"] = std::filesystem::absolute(root).lexically_normal().string();
  }
  if (executor) executor_doc["executor"] = executor;
  absl::StatusOr<executor::Config> executor_cfg = executor::ParseConfig(ToYaml(executor_doc));
  if (executor_cfg.ok()) {
    executor_cfg->server = cfg.executor.server;
    cfg.executor = std::move(*executor_cfg);
  } else {
    Collect(executor_cfg.status(), &problems);
  }

  if (!problems.empty()) {
    config::Problems all;
    for (const std::string& p : problems) all.Add("", p);  // each already reads "path: message"
    return all.ToStatus();
  }
  // One database and one logger for every service.
  cfg.queue.database = cfg.runs.database;
  cfg.queue.logger = cfg.runs.logger;
  cfg.executor.logger = cfg.runs.logger;
  return cfg;
}

}  // namespace

Config DefaultConfig() {
  Config cfg;
  db::SqliteConfig sqlite;
  sqlite.file = kDefaultSqliteFile;
  cfg.runs.database = config::DefaultDatabase();
  cfg.runs.database.sqlite = sqlite;
  cfg.runs.database.postgres.reset();
  cfg.queue.database = cfg.runs.database;
  return cfg;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml) { return FromYaml(yaml); }

absl::StatusOr<Config> LoadConfig(const std::string& file) {
  if (file.empty()) return DefaultConfig();
  absl::StatusOr<std::string> text = config::Document::LoadFileText(file);  // kNotFound for a missing file
  if (!text.ok()) return text.status();
  return FromYaml(*text);
}

}  // namespace flyte::manager
