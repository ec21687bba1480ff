#include "setup.h"

#include <utility>

#include "api/cluster_service_api.h"
#include "api/dataproxy_service_api.h"
#include "api/identity_settings_api.h"
#include "api/cache_service_api.h"
#include "api/project_service_api.h"
#include "api/secret_service_api.h"
#include "api/runs_api.h"
#include "api/tail_logs_api.h"
#include "flyte/app/log.h"
#include "flyte/app/main.h"
#include "flyte/common/clock.h"
#include "flyte/common/digest.h"
#include "flyte/common/work_pool.h"
#include "clients/grpc_queue_client.h"
#include "flyte/kube/client.h"
#include "logs/file_log_source.h"
#include "logs/pod_log_source.h"
#include "repository/store_factory.h"
#include "service/dataproxy_use_cases.h"
#include "service/log_tail_use_cases.h"
#include "service/cache_use_cases.h"
#include "service/project_use_cases.h"
#include "service/queue_dispatcher.h"
#include "service/secret_use_cases.h"
#include "service/settings_use_cases.h"
#include "service/storage_local.h"
#include "service/trigger_scheduler.h"

namespace flyte::runs {

#ifndef FLYTE_VERSION
#define FLYTE_VERSION "0.1.0"
#endif

// Members in construction order; Shutdown() tears them down explicitly in the order that drains cleanly, and the
// destructor then releases whatever is left in reverse order.
struct RunsService::Parts {
  Config config;
  std::unique_ptr<metrics::Registry> metrics;
  std::unique_ptr<common::WorkPool> pool;
  std::unique_ptr<Store> store;
  // Projects (in the database); CreateRun, DeployTask and UploadInputs check their project and domain here.
  std::unique_ptr<ProjectUseCases> projects;
  // runs.queue.endpoint: the outbox sender (nullptr when the endpoint is empty).
  std::unique_ptr<QueueClient> queue_client;
  std::unique_ptr<QueueDispatcher> queue_dispatcher;
  // The change dispatcher, the run/task/state use cases and their APIs (RunService, TaskService, StateService,
  // QueueService, StateReportService).
  std::unique_ptr<RunsApi> api;
  // What the Python SDK needs besides runs and tasks (docs/python-sdk.md).
  std::unique_ptr<LocalBlobStore> blobs;
  std::unique_ptr<DataProxyUseCases> data;
  std::unique_ptr<api::ClusterServiceApi> cluster_api;
  std::unique_ptr<api::DataProxyServiceApi> data_api;
  std::unique_ptr<api::ProjectServiceApi> project_api;
  // DataProxyService.TailLogs (runs.logs): the log source (files, or Pod logs through kube_client), the use case,
  // the threads following open streams.
  std::unique_ptr<kube::Client> kube_client;
  std::unique_ptr<LogSource> log_source;
  std::unique_ptr<LogTailUseCases> log_tail;
  std::unique_ptr<api::LogStreams> log_streams;
  std::unique_ptr<api::TailLogsApi> tail_logs_api;
  // `flyte whoami` and `flyte get settings` (IdentityService, SettingsService).
  std::unique_ptr<SettingsUseCases> settings;
  std::unique_ptr<api::IdentitySettingsApi> identity_settings_api;
  // CacheService v1 and v2 (task output caching; the executor looks up and records through it).
  std::unique_ptr<CacheUseCases> cache;
  std::unique_ptr<api::CacheServiceApi> cache_api;
  // SecretService (values sealed under runs.secretsKey) and the executor's SecretResolveService.
  std::unique_ptr<SecretUseCases> secrets;
  std::unique_ptr<api::SecretServiceApi> secret_api;
  // Fires scheduled triggers (runs.triggers.scheduler); nullptr when disabled.
  std::unique_ptr<TriggerScheduler> trigger_scheduler;
  std::unique_ptr<rpc::Router> router;
  std::unique_ptr<rpc::Server> server;
  bool started = false;
  bool shut_down = false;
};

namespace {

// runs.logs: the source TailLogs reads and its API.
absl::Status BuildLogs(const Config& config, const std::string& storage_prefix, common::Clock& clock,
                       RunsService::Parts& p) {
  const LogsConfig& logs = config.logs;
  if (logs.source == LogSourceKind::kKubernetes) {
    absl::StatusOr<kube::ClusterConfig> cluster = kube::ResolveClusterConfig(logs.kubernetes.kubeconfig);
    if (!cluster.ok()) {
      return absl::Status(cluster.status().code(), "runs.logs.kubernetes: " + std::string(cluster.status().message()));
    }
    kube::ClientOptions client_options;
    client_options.metrics = p.metrics.get();
    absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(*cluster, client_options);
    if (!client.ok()) {
      return absl::Status(client.status().code(), "runs.logs.kubernetes: " + std::string(client.status().message()));
    }
    p.kube_client = std::move(*client);
    PodLogSourceOptions pod_options;
    pod_options.ns = logs.kubernetes.ns;
    p.log_source = std::make_unique<PodLogSource>(*p.kube_client, pod_options);
  } else {
    constexpr char kFileScheme[] = "file://";
    if (storage_prefix.rfind(kFileScheme, 0) != 0) {
      return absl::InvalidArgumentError("runs.logs.source: files needs a local runs.storagePrefix, not " +
                                        storage_prefix);
    }
    FileLogSourceOptions file_options;
    file_options.root = storage_prefix.substr(sizeof(kFileScheme) - 1);
    p.log_source = std::make_unique<FileLogSource>(file_options);
  }
  FLYTE_LOG(kInfo, "DataProxyService.TailLogs reads {}", p.log_source->Describe());
  LogTailOptions tail_options;
  tail_options.phase_check_interval = logs.phase_check_interval;
  p.log_tail = std::make_unique<LogTailUseCases>(p.store->Actions(), *p.log_source, clock, tail_options);
  api::LogStreamsOptions stream_options;
  stream_options.max_streams = logs.max_streams;
  stream_options.poll_interval = logs.poll_interval;
  stream_options.metrics = p.metrics.get();
  p.log_streams = std::make_unique<api::LogStreams>(stream_options);
  p.tail_logs_api = std::make_unique<api::TailLogsApi>(*p.log_tail, *p.log_streams);
  p.tail_logs_api->Register(*p.router);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunsService>> RunsService::Create(const Config& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  p->metrics = std::make_unique<metrics::Registry>();
  p->pool = std::make_unique<common::WorkPool>("runs-db", static_cast<size_t>(config.worker_threads),
                                               config.max_queued_requests);

  StoreOptions store_options;
  metrics::Registry* registry = p->metrics.get();
  store_options.query_hook = [registry](std::string_view op, double seconds) {
    registry->ObserveDbQuery("runs", op, seconds);
  };
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(config.database, store_options);
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        "opening " + db::Describe(config.database) + ": " + std::string(store.status().message()));
  }
  p->store = std::move(*store);

  common::Clock& clock = common::Clock::System();
  RunUseCasesOptions run_options;
  run_options.storage_prefix = AbsoluteStoragePrefix(config.storage_prefix);
  p->projects = std::make_unique<ProjectUseCases>(p->store->Projects(), clock, SplitList(config.domains));
  if (run_options.storage_prefix.rfind("file://", 0) == 0) {
    // Projects made through CreateProject by versions that kept them in a file under the data root.
    const std::string file = run_options.storage_prefix.substr(std::string("file://").size()) + "/.flyte/projects.json";
    absl::StatusOr<int> imported = p->projects->ImportProjectsFile(file);
    if (!imported.ok()) return imported.status();
    if (*imported > 0) FLYTE_LOG(kInfo, "imported {} project(s) from {} into the database", *imported, file);
  }
  if (absl::Status s = p->projects->EnsureProjects(SplitList(config.projects)); !s.ok()) {
    return absl::Status(s.code(), "runs.projects: " + std::string(s.message()));
  }
  if (!config.queue.endpoint.empty()) {
    p->queue_client = std::make_unique<GrpcQueueClient>(MakeQueueChannel(config.queue.endpoint, config.queue.max_backoff));
    QueueDispatcherOptions queue_options;
    queue_options.min_backoff = config.queue.min_backoff;
    queue_options.max_backoff = config.queue.max_backoff;
    queue_options.poll_interval = config.queue.poll_interval;
    // SQLite is one runs-service's alone: claims found at start were left by its previous incarnation.
    queue_options.release_claims_at_start = !config.database.postgres.has_value();
    p->queue_dispatcher = std::make_unique<QueueDispatcher>(*p->store, *p->queue_client, clock, queue_options,
                                                           p->metrics.get());
  }
  RunsApiOptions api_options;
  api_options.runs = run_options;
  api_options.queue = p->queue_dispatcher.get();
  api_options.projects = p->projects.get();
  p->api = BuildRunsApi(*p->store, clock, api_options);
  p->router = std::make_unique<rpc::Router>(p->pool.get());
  p->api->Register(*p->router);

  p->blobs = std::make_unique<LocalBlobStore>(run_options.storage_prefix);
  DataProxyOptions data_options;
  Parts* parts = p.get();
  data_options.public_base_url = [parts] {
    std::string endpoint = parts->config.public_endpoint;
    if (endpoint.empty()) {
      // The bound port (set before the server accepts anything, so no call sees the configured 0).
      endpoint = "localhost:" + std::to_string(parts->server->port());
    }
    if (endpoint.find("://") == std::string::npos) endpoint = "http://" + endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
  };
  data_options.projects = p->projects.get();
  data_options.signing_key = config.signing_key;
  if (data_options.signing_key.empty()) {
    // Made once and kept in the database, so every replica and every restart signs and verifies with it.
    absl::StatusOr<std::string> key = p->store->Secrets().GetOrCreate("dataproxy.signingKey", common::RandomBytes(32));
    if (!key.ok()) return key.status();
    data_options.signing_key = *key;
  }
  p->data = std::make_unique<DataProxyUseCases>(*p->store, *p->blobs, clock, data_options);
  p->cluster_api = std::make_unique<api::ClusterServiceApi>();
  p->data_api = std::make_unique<api::DataProxyServiceApi>(*p->data);
  p->project_api = std::make_unique<api::ProjectServiceApi>(*p->projects);
  p->cluster_api->Register(*p->router);
  p->data_api->Register(*p->router);
  p->project_api->Register(*p->router);
  if (absl::Status s = BuildLogs(config, run_options.storage_prefix, clock, *p); !s.ok()) return s;
  p->settings = std::make_unique<SettingsUseCases>(p->projects.get(), run_options.storage_prefix);
  p->identity_settings_api = std::make_unique<api::IdentitySettingsApi>(*p->settings);
  p->identity_settings_api->Register(*p->router);
  p->cache = std::make_unique<CacheUseCases>(p->store->Cache(), clock);
  p->cache_api = std::make_unique<api::CacheServiceApi>(*p->cache);
  p->cache_api->Register(*p->router);
  std::string secrets_key = config.secrets_key;
  if (secrets_key.empty()) {
    // Made once and kept in the database (as the signing key is), so every replica and restart opens the values.
    absl::StatusOr<std::string> key = p->store->Secrets().GetOrCreate("secrets.key", common::RandomBytes(32));
    if (!key.ok()) return key.status();
    secrets_key = *key;
  }
  p->secrets = std::make_unique<SecretUseCases>(p->store->UserSecrets(), clock, secrets_key);
  if (config.internal_token.empty()) {
    FLYTE_LOG(kWarn, "runs-service: runs.internalToken is not set: SecretResolveService answers callers on this host "
                     "only (set it, and the executor's executor.internalToken, when the executor runs elsewhere)");
  }
  p->secret_api = std::make_unique<api::SecretServiceApi>(*p->secrets, api::InternalCallerCheck(config.internal_token));
  p->secret_api->Register(*p->router);
  if (config.triggers.scheduler) {
    TriggerSchedulerOptions scheduler_options;
    scheduler_options.holder = "runs-service " + common::HexEncode(common::RandomBytes(8));
    scheduler_options.poll_interval = config.triggers.poll_interval;
    scheduler_options.lease_duration = config.triggers.lease_duration;
    p->trigger_scheduler = std::make_unique<TriggerScheduler>(p->store->Triggers(), p->api->runs(),
                                                              p->api->trigger_codec(), clock, scheduler_options);
  }

  rpc::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.max_message_bytes = config.max_message_bytes;
  options.stream_backlog = config.watch_buffer_size;
  Store* store_ptr = p->store.get();
  options.readiness = [store_ptr] { return store_ptr->Ping(); };
  options.metrics = p->metrics.get();
  p->server = std::make_unique<rpc::Server>(p->router.get(), options);
  p->data_api->RegisterHttp(*p->server);
  return std::unique_ptr<RunsService>(new RunsService(std::move(p)));
}

RunsService::RunsService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

RunsService::~RunsService() { Shutdown(); }

absl::Status RunsService::Start() {
  absl::Status s = parts_->server->Start();
  if (!s.ok()) return s;
  parts_->started = true;
  FLYTE_LOG(kInfo, "runs-service listening on {}:{} (gRPC and Connect), database {}", parts_->config.server.host,
            parts_->server->port(), db::Describe(parts_->config.database));
  if (parts_->queue_dispatcher) {
    if (absl::Status q = parts_->queue_dispatcher->Start(); !q.ok()) return q;
    FLYTE_LOG(kInfo, "runs-service forwards actions to queue-service at {}", parts_->config.queue.endpoint);
  } else {
    FLYTE_LOG(kWarn, "runs.queue.endpoint is empty: runs are stored but not sent to any queue-service");
  }
  if (parts_->trigger_scheduler) parts_->trigger_scheduler->Start();
  return absl::OkStatus();
}

int RunsService::port() const { return parts_->started ? parts_->server->port() : parts_->config.server.port; }
rpc::Router& RunsService::router() { return *parts_->router; }
rpc::Server& RunsService::server() { return *parts_->server; }
metrics::Registry& RunsService::metrics() { return *parts_->metrics; }

void RunsService::Shutdown() {
  Parts& p = *parts_;
  if (p.shut_down) return;
  p.shut_down = true;
  // 1. Stop accepting, end open streams, wait for in-flight calls (they run on the pool).
  if (p.server) p.server->Shutdown();
  // No more fires (they go through the use cases below); the lease is given up, so another replica's scheduler
  // takes over at its next pass.
  if (p.trigger_scheduler) p.trigger_scheduler->Shutdown();
  // Log streams have ended with the server; their threads read the database, so they are joined before it closes.
  if (p.log_streams) p.log_streams->Shutdown();
  // 2. No more watch events; then the workers finish what is queued.
  if (p.api) p.api->Shutdown();
  // Unsent outbox commands stay in the database for the next start.
  if (p.queue_dispatcher) p.queue_dispatcher->Shutdown();
  if (p.pool) p.pool->Shutdown();
  // 3. Close the database last: nothing can use it any more.
  p.server.reset();
  p.trigger_scheduler.reset();
  p.identity_settings_api.reset();
  p.settings.reset();
  p.secret_api.reset();
  p.secrets.reset();
  p.cache_api.reset();
  p.cache.reset();
  p.project_api.reset();
  p.tail_logs_api.reset();
  p.log_streams.reset();
  p.log_tail.reset();
  p.log_source.reset();
  p.kube_client.reset();
  p.data_api.reset();
  p.cluster_api.reset();
  p.data.reset();
  p.blobs.reset();
  p.router.reset();
  p.api.reset();
  p.queue_dispatcher.reset();
  p.queue_client.reset();
  p.projects.reset();
  p.store.reset();
}

int Main(int argc, const char* const* argv) {
  return app::RunServiceMain<Config, RunsService>(argc, argv, "runs-service", FLYTE_VERSION, &LoadConfig);
}

}  // namespace flyte::runs
