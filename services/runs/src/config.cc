#include "config.h"

#include <cctype>
#include <filesystem>
#include <optional>

#include "flyte/config/load.h"
#include "flyte/config/yaml.h"

namespace flyte::runs {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    size_t b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char c : text) {
    if (c == ',') flush();
    else cur.push_back(c);
  }
  flush();
  return out;
}

std::string AbsoluteStoragePrefix(const std::string& prefix) {
  if (prefix.empty() || prefix.find("://") != std::string::npos) return prefix;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(prefix, ec);
  if (ec) return prefix;
  std::string path = abs.lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return "file://" + path;
}

namespace {

void ParseLogs(config::Section& logs, LogsConfig* out) {
  config::Problems& problems = *logs.problems();
  std::string source = out->source == LogSourceKind::kKubernetes ? "kubernetes" : "files";
  logs.Enum("source", &source, {"files", "kubernetes"});
  out->source = source == "kubernetes" ? LogSourceKind::kKubernetes : LogSourceKind::kFiles;
  logs.Duration("pollInterval", &out->poll_interval);
  logs.Duration("phaseCheckInterval", &out->phase_check_interval);
  logs.Size("maxStreams", &out->max_streams, 1, 100'000);
  if (std::optional<config::Section> k = logs.Child("kubernetes")) {
    k->String("namespace", &out->kubernetes.ns);
    k->String("kubeconfig", &out->kubernetes.kubeconfig);
    k->Finish();
    if (out->kubernetes.ns.empty()) problems.Add("runs.logs.kubernetes.namespace", "must not be empty");
    if (out->source != LogSourceKind::kKubernetes) {
      problems.Add("runs.logs.kubernetes", "only used with runs.logs.source: kubernetes");
    }
  }
  logs.Finish();
  if (out->poll_interval < std::chrono::milliseconds(10)) problems.Add("runs.logs.pollInterval", "must be at least 10ms");
  if (out->phase_check_interval < std::chrono::milliseconds(10)) {
    problems.Add("runs.logs.phaseCheckInterval", "must be at least 10ms");
  }
}

// 64 hex characters -> their 32 bytes; nullopt if the text is anything else.
std::optional<std::string> HexKey(const std::string& hex) {
  if (hex.size() != 64) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = std::isxdigit(static_cast<unsigned char>(hex[i])) ? std::stoi(hex.substr(i, 1), nullptr, 16) : -1;
    int lo = std::isxdigit(static_cast<unsigned char>(hex[i + 1])) ? std::stoi(hex.substr(i + 1, 1), nullptr, 16) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// The whole schema; libs/config reads the file, reports unknown top-level keys and collects the problems.
void ReadSchema(config::Section& root, Config* out) {
  Config& cfg = *out;
  config::Problems& problems = *root.problems();
  if (std::optional<config::Section> runs = root.Child("runs")) {
    config::ParseServer(*runs, "server", &cfg.server.host, &cfg.server.port);
    runs->Size("watchBufferSize", &cfg.watch_buffer_size, 1, 1'000'000);
    runs->Size("maxMessageBytes", &cfg.max_message_bytes, 1024, 1ull << 30);
    runs->Int("workerThreads", &cfg.worker_threads, 1, 1024);
    runs->Size("maxQueuedRequests", &cfg.max_queued_requests, 1, 10'000'000);
    runs->String("storagePrefix", &cfg.storage_prefix);
    runs->String("publicEndpoint", &cfg.public_endpoint);
    runs->Secret("signingKey", &cfg.signing_key);
    runs->Secret("secretsKey", &cfg.secrets_key);
    runs->Secret("internalToken", &cfg.internal_token);
    runs->String("projects", &cfg.projects);
    runs->String("domains", &cfg.domains);
    if (std::optional<config::Section> queue = runs->Child("queue")) {
      queue->String("endpoint", &cfg.queue.endpoint);
      queue->Duration("minBackoff", &cfg.queue.min_backoff);
      queue->Duration("maxBackoff", &cfg.queue.max_backoff);
      queue->Duration("pollInterval", &cfg.queue.poll_interval);
      queue->Finish();
      if (cfg.queue.min_backoff < std::chrono::milliseconds(1)) problems.Add("runs.queue.minBackoff", "must be at least 1ms");
      if (cfg.queue.max_backoff < cfg.queue.min_backoff) {
        problems.Add("runs.queue.maxBackoff", "must be at least runs.queue.minBackoff");
      }
      if (cfg.queue.poll_interval < std::chrono::milliseconds(10)) {
        problems.Add("runs.queue.pollInterval", "must be at least 10ms");
      }
    }
    if (std::optional<config::Section> logs = runs->Child("logs")) ParseLogs(*logs, &cfg.logs);
    if (std::optional<config::Section> triggers = runs->Child("triggers")) {
      triggers->Bool("scheduler", &cfg.triggers.scheduler);
      triggers->Duration("pollInterval", &cfg.triggers.poll_interval);
      triggers->Duration("leaseDuration", &cfg.triggers.lease_duration);
      triggers->Finish();
      if (cfg.triggers.poll_interval < std::chrono::milliseconds(10)) {
        problems.Add("runs.triggers.pollInterval", "must be at least 10ms");
      }
      if (cfg.triggers.lease_duration < 2 * cfg.triggers.poll_interval) {
        problems.Add("runs.triggers.leaseDuration", "must be at least twice runs.triggers.pollInterval");
      }
    }
    runs->Finish();
    if (cfg.storage_prefix.empty()) problems.Add("runs.storagePrefix", "must not be empty");
    if (SplitList(cfg.domains).empty()) problems.Add("runs.domains", "must name at least one domain");
    if (!cfg.signing_key.empty() && cfg.signing_key.size() < 32) {
      problems.Add("runs.signingKey", "must be at least 32 bytes (or absent: a key kept in the database)");
    }
    if (!cfg.internal_token.empty() && cfg.internal_token.size() < 16) {
      problems.Add("runs.internalToken", "must be at least 16 bytes (or absent: internal APIs for this host only)");
    }
    if (!cfg.secrets_key.empty()) {
      std::optional<std::string> key = HexKey(cfg.secrets_key);
      if (!key) {
        problems.Add("runs.secretsKey", "must be 64 hex characters (32 bytes), or absent: a key kept in the database");
      } else {
        cfg.secrets_key = *key;
      }
    }
  }
  cfg.storage_prefix = AbsoluteStoragePrefix(cfg.storage_prefix);
  if (std::optional<config::Section> database = root.Child("database")) {
    config::ParseDatabase(*database, &cfg.database);
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

}  // namespace flyte::runs
