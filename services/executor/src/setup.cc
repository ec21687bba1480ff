#include "setup.h"

#include <unistd.h>

#include <filesystem>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "clients/grpc_cache_client.h"
#include "clients/grpc_secret_client.h"
#include "clients/grpc_lease_client.h"
#include "clients/grpc_state_client.h"
#include "clients/state_reporter.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flyte/app/log.h"
#include "flyte/app/main.h"
#include "flyte/common/work_pool.h"
#include "flyte/kube/client.h"
#include "flyte/rpc/router.h"
#include "kubernetes/task_action_controller.h"
#include "service/journal.h"

namespace flyte::executor {

#ifndef FLYTE_VERSION
#define FLYTE_VERSION "0.1.0"
#endif

std::string GrpcTarget(const std::string& endpoint) {
  if (endpoint.find("://") != std::string::npos || endpoint.rfind("unix:", 0) == 0) return endpoint;
  return "dns:///" + endpoint;
}

ExecutorOptions ToExecutorOptions(const Config& config) {
  ExecutorOptions o;
  o.runtime.data_root = std::filesystem::absolute(config.data_root).lexically_normal().string();
  while (o.runtime.data_root.size() > 1 && o.runtime.data_root.back() == '/') o.runtime.data_root.pop_back();
  o.runtime.max_concurrent = static_cast<size_t>(config.max_concurrent_processes);
  o.runtime.abort_grace = config.kill_grace_period;
  o.runtime.timeout_grace = config.kill_grace_period;
  o.runtime.env.endpoint = GrpcTarget(config.task_endpoint.empty() ? config.runs_endpoint : config.task_endpoint);
  o.runtime.env.extra_path = config.python_path;
  o.runtime.warm_python = config.warm_python;
  o.lease_batch = static_cast<uint32_t>(config.lease_batch);
  o.acquire_wait = config.acquire_wait;
  o.heartbeat_interval = config.heartbeat_interval;
  o.shutdown_flush = std::min(config.kill_grace_period, std::chrono::milliseconds(5000));
  return o;
}

struct ExecutorModule::Parts {
  std::unique_ptr<Journal> journal;                 // local runtime
  std::unique_ptr<GrpcLeaseClient> leases;          // local runtime
  std::unique_ptr<kube::Client> kube;               // kubernetes runtime
  std::string identity;                             // kubernetes runtime: hostname-pid-start
  std::unique_ptr<GrpcStateClient> state;
  std::unique_ptr<GrpcCacheClient> cache;           // runs-service's CacheService
  std::unique_ptr<GrpcSecretClient> secrets;        // runs-service's SecretResolveService
  std::unique_ptr<StateReporter> reporter;
  std::unique_ptr<Executor> executor;               // local runtime
  std::unique_ptr<k8s::TaskActionController> controller;  // kubernetes runtime
  bool shut_down = false;
};

namespace {

std::string ProcessIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid(), "-", absl::ToUnixSeconds(absl::Now()));
}

k8s::ControllerOptions ToControllerOptions(const Config& config, const std::string& identity) {
  const KubernetesRuntimeConfig& k = config.kubernetes;
  ExecutorOptions local = ToExecutorOptions(config);
  k8s::ControllerOptions o;
  o.ns = k.ns;
  o.pod.ns = k.ns;
  o.pod.service_account = k.service_account;
  o.pod.node_selector = k.node_selector;
  o.pod.tolerations = k.tolerations;
  o.pod.image_pull_secrets = k.image_pull_secrets;
  o.pod.default_resources = k.default_resources;
  o.pod.data_volume_claim = k.data_volume_claim;
  o.pod.task_tmp_on_data_volume = k.task_tmp_on_data_volume;
  o.pod.data_root = local.runtime.data_root;
  o.pod.env = local.runtime.env;
  o.pod.kill_grace = config.kill_grace_period;
  o.workers = k.workers;
  o.image_pull_grace = k.image_pull_grace;
  o.resync = k.resync;
  o.retention = k.retention;
  o.leader_election = k.leader_election;
  o.lease.ns = k.ns;
  o.lease.name = k.lease_name;
  o.lease.identity = identity;
  o.lease.lease_duration = k.lease_duration;
  o.lease.renew_deadline = k.renew_deadline;
  o.lease.retry_period = k.retry_period;
  return o;
}

absl::StatusOr<std::unique_ptr<ExecutorModule::Parts>> CreateKubernetesParts(const Config& config,
                                                                             metrics::Registry* metrics,
                                                                             std::shared_ptr<grpc::Channel> runs) {
  auto p = std::make_unique<ExecutorModule::Parts>();
  absl::StatusOr<kube::ClusterConfig> cluster = kube::ResolveClusterConfig(config.kubernetes.kubeconfig);
  if (!cluster.ok()) return cluster.status();
  kube::ClientOptions client_options;
  client_options.metrics = metrics;
  client_options.user_agent = "flyte-cpp executor";
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(*cluster, client_options);
  if (!client.ok()) return client.status();
  p->kube = std::move(*client);
  p->identity = ProcessIdentity();
  p->cache = std::make_unique<GrpcCacheClient>(runs);
  p->secrets = std::make_unique<GrpcSecretClient>(runs, config.internal_token);
  p->state = std::make_unique<GrpcStateClient>(std::move(runs));
  p->reporter = std::make_unique<StateReporter>(*p->state);
  k8s::ControllerOptions options = ToControllerOptions(config, p->identity);
  options.secrets = p->secrets.get();
  p->controller = std::make_unique<k8s::TaskActionController>(*p->kube, *p->reporter, p->cache.get(),
                                                              std::move(options), metrics);
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExecutorModule>> ExecutorModule::Create(const Config& config,
                                                                      metrics::Registry* metrics,
                                                                      std::shared_ptr<grpc::Channel> queue,
                                                                      std::shared_ptr<grpc::Channel> runs) {
  if (config.runtime == Runtime::kKubernetes) {
    absl::StatusOr<std::unique_ptr<Parts>> parts = CreateKubernetesParts(config, metrics, std::move(runs));
    if (!parts.ok()) return parts.status();
    return std::unique_ptr<ExecutorModule>(new ExecutorModule(std::move(*parts)));
  }
  auto p = std::make_unique<Parts>();
  ExecutorOptions options = ToExecutorOptions(config);
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(options.runtime.data_root + "/.executor");
  if (!journal.ok()) return journal.status();
  p->journal = std::move(*journal);
  p->leases = std::make_unique<GrpcLeaseClient>(std::move(queue), p->journal->executor_id());
  p->cache = std::make_unique<GrpcCacheClient>(runs);
  p->secrets = std::make_unique<GrpcSecretClient>(runs, config.internal_token);
  p->state = std::make_unique<GrpcStateClient>(std::move(runs));
  p->reporter = std::make_unique<StateReporter>(*p->state);
  p->executor = std::make_unique<Executor>(options, *p->leases, *p->state, *p->reporter, *p->journal, metrics,
                                           p->cache.get(), p->secrets.get());
  return std::unique_ptr<ExecutorModule>(new ExecutorModule(std::move(p)));
}

ExecutorModule::ExecutorModule(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
ExecutorModule::~ExecutorModule() { Shutdown(); }

absl::Status ExecutorModule::Start() {
  return parts_->controller ? parts_->controller->Start() : parts_->executor->Start();
}
Executor& ExecutorModule::executor() {
  if (!parts_->executor) std::abort();  // a caller bug: the Kubernetes runtime has no lease executor
  return *parts_->executor;
}
const std::string& ExecutorModule::executor_id() const {
  return parts_->controller ? parts_->identity : parts_->journal->executor_id();
}
absl::Status ExecutorModule::Ready() const {
  if (parts_->controller) {
    if (!parts_->controller->synced()) return absl::UnavailableError("listing TaskActions and Pods");
    return absl::OkStatus();
  }
  if (!parts_->executor->started()) return absl::UnavailableError("recovering the journal, not taking work yet");
  return absl::OkStatus();
}

void ExecutorModule::Shutdown() {
  Parts& p = *parts_;
  if (p.shut_down) return;
  p.shut_down = true;
  if (p.controller) {
    p.controller->Shutdown();
    // Transitions already handed over get a short chance to reach runs-service; the rest are reported again by
    // the next leader (it reads them from the TaskActions).
    p.reporter->Flush(std::chrono::seconds(2));
  }
  if (p.executor) p.executor->Shutdown();
  p.reporter->Shutdown();
  p.controller.reset();
  p.executor.reset();
  p.reporter.reset();
  p.state.reset();
  p.cache.reset();
  p.leases.reset();
  p.kube.reset();
  p.journal.reset();  // unlocks the data root last
}

struct ExecutorService::Parts {
  Config config;
  std::unique_ptr<metrics::Registry> metrics;
  std::unique_ptr<common::WorkPool> pool;
  std::unique_ptr<rpc::Router> router;
  std::unique_ptr<rpc::Server> server;
  std::unique_ptr<ExecutorModule> module;
  bool started = false;
  bool shut_down = false;
};

absl::StatusOr<std::unique_ptr<ExecutorService>> ExecutorService::Create(const Config& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  p->metrics = std::make_unique<metrics::Registry>();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  auto queue = grpc::CreateCustomChannel(GrpcTarget(config.queue_endpoint), grpc::InsecureChannelCredentials(), args);
  auto runs = grpc::CreateCustomChannel(GrpcTarget(config.runs_endpoint), grpc::InsecureChannelCredentials(), args);
  absl::StatusOr<std::unique_ptr<ExecutorModule>> module =
      ExecutorModule::Create(config, p->metrics.get(), std::move(queue), std::move(runs));
  if (!module.ok()) return module.status();
  p->module = std::move(*module);

  // No RPCs: the server is there for /healthz, /readyz and /metrics.
  p->pool = std::make_unique<common::WorkPool>("executor-http", 2, 100);
  p->router = std::make_unique<rpc::Router>(p->pool.get());
  rpc::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.metrics = p->metrics.get();
  ExecutorModule* module_ptr = p->module.get();
  options.readiness = [module_ptr]() -> absl::Status { return module_ptr->Ready(); };
  p->server = std::make_unique<rpc::Server>(p->router.get(), options);
  return std::unique_ptr<ExecutorService>(new ExecutorService(std::move(p)));
}

ExecutorService::ExecutorService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
ExecutorService::~ExecutorService() { Shutdown(); }

absl::Status ExecutorService::Start() {
  absl::Status s = parts_->server->Start();
  if (!s.ok()) return s;
  parts_->started = true;
  if (parts_->config.runtime == Runtime::kKubernetes) {
    FLYTE_LOG(kInfo, "executor {}: health and metrics on {}:{}; Kubernetes runtime, runs {}",
              parts_->module->executor_id(), parts_->config.server.host, parts_->server->port(),
              parts_->config.runs_endpoint);
  } else {
    FLYTE_LOG(kInfo, "executor {}: health and metrics on {}:{}; queue {}, runs {}", parts_->module->executor_id(),
              parts_->config.server.host, parts_->server->port(), parts_->config.queue_endpoint,
              parts_->config.runs_endpoint);
  }
  return parts_->module->Start();
}

int ExecutorService::port() const {
  return parts_->started ? parts_->server->port() : parts_->config.server.port;
}
metrics::Registry& ExecutorService::metrics() { return *parts_->metrics; }
ExecutorModule& ExecutorService::module() { return *parts_->module; }

void ExecutorService::Shutdown() {
  Parts& p = *parts_;
  if (p.shut_down) return;
  p.shut_down = true;
  if (p.module) p.module->Shutdown();
  if (p.server) p.server->Shutdown();
  if (p.pool) p.pool->Shutdown();
  p.server.reset();
  p.router.reset();
  p.module.reset();
}

int Main(int argc, const char* const* argv) {
  return app::RunServiceMain<Config, ExecutorService>(argc, argv, "executor", FLYTE_VERSION, &LoadConfig);
}

}  // namespace flyte::executor
