#pragma once
// runs-service configuration: the seed's YAML keys, defaults equal to running `runs-service` with no arguments
// (0.0.0.0:8090, SQLite ./runs.db). Unknown keys and bad values are errors, all reported at once.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "flyte/config/sections.h"
#include "flyte/db/config.h"

namespace flyte::runs {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8090;  // 0 picks a free port (tests)
};

// runs.queue: where runs-service forwards actions to run and aborts (its queue outbox is sent there).
struct QueueConfig {
  std::string endpoint = "localhost:8089";  // host:port or a gRPC target; "" = forward nothing (runs-service alone)
  std::chrono::milliseconds min_backoff{100};   // retry delay after a failed send, doubling up to ...
  std::chrono::milliseconds max_backoff{5000};  // ... this (also caps gRPC's reconnect backoff)
  std::chrono::milliseconds poll_interval{1000};  // outbox re-check without a wake (other replicas, leftovers)
};

// runs.logs: where DataProxyService.TailLogs reads an attempt's output (docs/runs-service.md, "Logs").
enum class LogSourceKind { kFiles, kKubernetes };
struct LogsConfig {
  // files: <runs.storagePrefix>/.../<action>/<attempt>/stdout.log, stderr.log (the local runtime; the prefix must
  // be a local path). kubernetes: the attempt's Pod log through the API server (the Kubernetes runtime).
  LogSourceKind source = LogSourceKind::kFiles;                 // runs.logs.source: files | kubernetes
  std::chrono::milliseconds poll_interval{200};                 // runs.logs.pollInterval: a quiet log is re-read
  std::chrono::milliseconds phase_check_interval{1000};        // runs.logs.phaseCheckInterval: attempt over yet?
  size_t max_streams = 64;                                       // runs.logs.maxStreams: TailLogs streams at once
  struct Kubernetes {                                            // runs.logs.kubernetes (source kubernetes only)
    std::string ns = "flyte";       // namespace: where the executor creates task Pods
    std::string kubeconfig;         // "" = $KUBECONFIG, in-cluster, or ~/.kube/config
  } kubernetes;
};

// runs.triggers: the scheduler that fires scheduled triggers (one replica at a time holds its lease).
struct TriggersConfig {
  bool scheduler = true;                              // false = store triggers but never fire them on this replica
  std::chrono::milliseconds poll_interval{1000};      // how often due triggers are looked for (tick resolution)
  std::chrono::milliseconds lease_duration{15000};    // a crashed scheduler's lease lapses after this
};

struct Config {
  ServerConfig server;                              // runs.server
  size_t watch_buffer_size = 100;                   // runs.watchBufferSize: messages queued per watch stream
  size_t max_message_bytes = 4 * 1024 * 1024;       // runs.maxMessageBytes: largest request accepted
  int worker_threads = 8;                           // runs.workerThreads: database workers
  size_t max_queued_requests = 1000;                // runs.maxQueuedRequests: beyond this, RESOURCE_EXHAUSTED
  // runs.storagePrefix: root of run inputs/outputs. A relative or absolute local path ("./data", the default,
  // shared with the executor's executor.dataRoot) is made an absolute file:// uri when the config is loaded.
  std::string storage_prefix = "./data";
  // runs.publicEndpoint: host:port (or http(s)://host:port) put into the data proxy's signed URLs; "" =
  // localhost:<bound port>.
  std::string public_endpoint;
  // runs.signingKey (secret: signingKey / signingKeyEnv / signingKeyPath): the HMAC key of the data proxy's signed
  // URLs, the same on every replica; at least 32 bytes. "" = a random key made once and kept in the database.
  std::string signing_key;
  // runs.secretsKey (secret: secretsKey / secretsKeyEnv / secretsKeyPath): 64 hex characters, the AES-256-GCM key
  // SecretService's values are encrypted with in the database (held here as its 32 raw bytes). "" = a random key
  // made once and kept in the database's service_secrets table (then the database alone opens the values: set
  // one in production).
  std::string secrets_key;
  // runs.internalToken (secret: internalToken / internalTokenEnv / internalTokenPath): the shared token the executor
  // sends (executor.internalToken) to call the internal SecretResolveService; at least 16 bytes. "" = that API
  // answers callers on this host only (loopback).
  std::string internal_token;
  std::string projects = "flytesnacks";                       // runs.projects: comma-separated, created at start
  std::string domains = "development,staging,production";     // runs.domains: every project's domains
  QueueConfig queue;                                // runs.queue
  LogsConfig logs;                                  // runs.logs
  TriggersConfig triggers;                          // runs.triggers
  db::DatabaseConfig database = config::DefaultDatabase();  // database
  config::LoggerConfig logger;                      // logger
};

// kInvalidArgument listing every problem, one per line ("runs.server.port: expected an integer 1..65535, got 'x'").
absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// "" = defaults. kNotFound if the file cannot be read; otherwise as ParseConfig (messages unchanged).
absl::StatusOr<Config> LoadConfig(const std::string& file);

// "a, b,,c" -> {"a", "b", "c"} (runs.projects, runs.domains).
std::vector<std::string> SplitList(const std::string& text);
// "./data" -> "file:///<cwd>/data"; uris with a scheme are returned unchanged.
std::string AbsoluteStoragePrefix(const std::string& prefix);

}  // namespace flyte::runs
