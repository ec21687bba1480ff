#include "setup.h"

#include <utility>

#include "api/queue_api.h"
#include "flyte/app/log.h"
#include "flyte/app/main.h"
#include "flyte/common/work_pool.h"
#include "flyte/kube/client.h"
#include "repository/backend_factory.h"
#include "repository/kubernetes_action_queue.h"

namespace flyte::queue {

#ifndef FLYTE_VERSION
#define FLYTE_VERSION "0.1.0"
#endif

QueueOptions ToQueueOptions(const Config& config) {
  QueueOptions o;
  o.lease_duration = config.lease_duration;
  o.max_wait = std::chrono::milliseconds(config.max_wait_ms);
  o.poll_interval = config.poll_interval;
  o.done_retention = config.done_retention;
  o.maintenance_interval = config.maintenance_interval;
  o.max_waiting_acquires = config.max_waiting_acquires;
  return o;
}

QueueModule::QueueModule(rpc::Router& router, QueueBackend& backend, metrics::Registry* metrics,
                         const QueueOptions& options, common::Clock& clock)
    : QueueModule(router, backend, &backend, metrics, options, clock) {}

QueueModule::QueueModule(rpc::Router& router, ActionQueue& queue, QueueBackend* leases, metrics::Registry* metrics,
                         const QueueOptions& options, common::Clock& clock)
    : use_cases_(std::make_unique<QueueUseCases>(queue, leases, clock, metrics, options)) {
  api::RegisterQueueApi(router, *use_cases_);
  use_cases_->StartMaintenance();
}

QueueModule::~QueueModule() { Shutdown(); }

void QueueModule::Shutdown() { use_cases_->Shutdown(); }

struct QueueService::Parts {
  Config config;
  std::unique_ptr<metrics::Registry> metrics;
  std::unique_ptr<common::WorkPool> pool;
  std::unique_ptr<QueueBackend> backend;          // queue.backend sql
  std::unique_ptr<kube::Client> kube;             // queue.backend kubernetes
  std::unique_ptr<KubernetesActionQueue> kube_queue;
  ActionQueue* queue = nullptr;
  std::unique_ptr<rpc::Router> router;
  std::unique_ptr<QueueModule> module;
  std::unique_ptr<rpc::Server> server;
  bool started = false;
  bool shut_down = false;
};

absl::StatusOr<std::unique_ptr<QueueService>> QueueService::Create(const Config& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  p->metrics = std::make_unique<metrics::Registry>();
  p->pool = std::make_unique<common::WorkPool>(
      "queue-db", static_cast<size_t>(config.worker_threads + config.max_waiting_acquires),
      config.max_queued_requests);

  if (config.backend == Backend::kKubernetes) {
    absl::StatusOr<kube::ClusterConfig> cluster = kube::ResolveClusterConfig(config.kubernetes.kubeconfig);
    if (!cluster.ok()) return cluster.status();
    kube::ClientOptions client_options;
    client_options.metrics = p->metrics.get();
    client_options.user_agent = "flyte-cpp queue-service";
    absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(*cluster, client_options);
    if (!client.ok()) return client.status();
    p->kube = std::move(*client);
    p->kube_queue = std::make_unique<KubernetesActionQueue>(*p->kube, config.kubernetes.ns);
    p->queue = p->kube_queue.get();
  } else {
    BackendOptions backend_options;
    metrics::Registry* registry = p->metrics.get();
    backend_options.query_hook = [registry](std::string_view op, double seconds) {
      registry->ObserveDbQuery("queue", op, seconds);
    };
    absl::StatusOr<std::unique_ptr<QueueBackend>> backend = OpenQueueBackend(config.database, backend_options);
    if (!backend.ok()) {
      return absl::Status(backend.status().code(), "opening " + db::Describe(config.database) + ": " +
                                                       std::string(backend.status().message()));
    }
    p->backend = std::move(*backend);
    p->queue = p->backend.get();
  }

  p->router = std::make_unique<rpc::Router>(p->pool.get());
  p->module = std::make_unique<QueueModule>(*p->router, *p->queue, p->backend.get(), p->metrics.get(),
                                            ToQueueOptions(config));

  rpc::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.max_message_bytes = config.max_message_bytes;
  ActionQueue* queue_ptr = p->queue;
  options.readiness = [queue_ptr] { return queue_ptr->Ping(); };
  options.metrics = p->metrics.get();
  p->server = std::make_unique<rpc::Server>(p->router.get(), options);
  return std::unique_ptr<QueueService>(new QueueService(std::move(p)));
}

QueueService::QueueService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

QueueService::~QueueService() { Shutdown(); }

absl::Status QueueService::Start() {
  absl::Status s = parts_->server->Start();
  if (!s.ok()) return s;
  parts_->started = true;
  if (parts_->kube) {
    FLYTE_LOG(kInfo, "queue-service listening on {}:{} (gRPC and Connect), TaskActions in namespace {} of {} ({})",
              parts_->config.server.host, parts_->server->port(), parts_->config.kubernetes.ns,
              parts_->kube->config().server, parts_->kube->config().source);
  } else {
    FLYTE_LOG(kInfo, "queue-service listening on {}:{} (gRPC and Connect), database {}, lease {}",
              parts_->config.server.host, parts_->server->port(), db::Describe(parts_->config.database),
              config::FormatDuration(parts_->config.lease_duration));
  }
  return absl::OkStatus();
}

int QueueService::port() const { return parts_->started ? parts_->server->port() : parts_->config.server.port; }
rpc::Server& QueueService::server() { return *parts_->server; }
metrics::Registry& QueueService::metrics() { return *parts_->metrics; }
QueueModule& QueueService::module() { return *parts_->module; }
ActionQueue& QueueService::queue() { return *parts_->queue; }
QueueBackend& QueueService::backend() {
  if (!parts_->backend) std::abort();  // a caller bug: only the SQL backend has leases
  return *parts_->backend;
}

void QueueService::Shutdown() {
  Parts& p = *parts_;
  if (p.shut_down) return;
  p.shut_down = true;
  // 1. Waiting Acquire calls return (empty) at once, so draining does not wait for their long-poll.
  if (p.module) p.module->Shutdown();
  // 2. Stop accepting and wait for in-flight calls (they run on the pool), then the workers.
  if (p.server) p.server->Shutdown();
  if (p.pool) p.pool->Shutdown();
  // 3. Close the database last: nothing can use it any more.
  p.server.reset();
  p.module.reset();
  p.router.reset();
  p.kube_queue.reset();
  p.kube.reset();
  p.backend.reset();
}

int Main(int argc, const char* const* argv) {
  return app::RunServiceMain<Config, QueueService>(argc, argv, "queue-service", FLYTE_VERSION, &LoadConfig);
}

}  // namespace flyte::queue
