#include "setup.h"

#include <utility>

#include "executor/src/setup.h"
#include "flyte/app/log.h"
#include "flyte/app/main.h"
#include "flyte/common/digest.h"
#include "queue/src/setup.h"
#include "runs/src/setup.h"

namespace flyte::manager {

#ifndef FLYTE_VERSION
#define FLYTE_VERSION "0.1.0"
#endif

struct Manager::Parts {
  Config config;
  std::unique_ptr<queue::QueueService> queue;
  std::unique_ptr<runs::RunsService> runs;
  std::unique_ptr<executor::ExecutorService> executor;
  bool shut_down = false;
};

std::string LocalAddress(const std::string& bind_host) {
  if (bind_host.empty() || bind_host == "0.0.0.0" || bind_host == "::" || bind_host == "[::]") return "127.0.0.1";
  if (bind_host.find(':') != std::string::npos && bind_host.front() != '[') return "[" + bind_host + "]";
  return bind_host;
}

absl::StatusOr<std::unique_ptr<Manager>> Manager::Create(const Config& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  // Queue first: runs-service will enqueue root actions into it.
  absl::StatusOr<std::unique_ptr<queue::QueueService>> queue = queue::QueueService::Create(config.queue);
  if (!queue.ok()) return queue.status();
  p->queue = std::move(*queue);
  // runs-service is created in Start(), once the queue has bound its port (port 0 included): its queue endpoint
  // is this process's queue.
  return std::unique_ptr<Manager>(new Manager(std::move(p)));
}

Manager::Manager(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Manager::~Manager() { Shutdown(); }

absl::Status Manager::Start() {
  Parts& p = *parts_;
  absl::Status s = p.queue->Start();
  if (!s.ok()) return s;
  // runs-service forwards every run and abort to this process's queue, over localhost gRPC like a remote one.
  p.config.runs.queue.endpoint = LocalAddress(p.config.queue.server.host) + ":" + std::to_string(p.queue->port());
  // The executor calls runs-service's internal SecretResolveService with the same token: runs.internalToken when
  // given (e.g. shared with executors elsewhere), else one made for this process's lifetime.
  if (p.config.runs.internal_token.empty()) p.config.runs.internal_token = common::HexEncode(common::RandomBytes(32));
  p.config.executor.internal_token = p.config.runs.internal_token;
  absl::StatusOr<std::unique_ptr<runs::RunsService>> runs = runs::RunsService::Create(p.config.runs);
  if (!runs.ok()) return runs.status();
  p.runs = std::move(*runs);
  s = p.runs->Start();
  if (!s.ok()) return s;
  // The executor reaches both over localhost gRPC, as it would reach remote services; its tasks get the runs
  // endpoint too (unless executor.taskEndpoint says otherwise), so it must be a real address, not in-process.
  p.config.executor.queue_endpoint = LocalAddress(p.config.queue.server.host) + ":" + std::to_string(p.queue->port());
  p.config.executor.runs_endpoint = LocalAddress(p.config.runs.server.host) + ":" + std::to_string(p.runs->port());
  absl::StatusOr<std::unique_ptr<executor::ExecutorService>> executor =
      executor::ExecutorService::Create(p.config.executor);
  if (!executor.ok()) return executor.status();
  p.executor = std::move(*executor);
  s = p.executor->Start();
  if (!s.ok()) return s;
  FLYTE_LOG(kInfo, "flyte-manager ready: runs-service :{}, queue-service :{}, executor health :{}", p.runs->port(),
            p.queue->port(), p.executor->port());
  return absl::OkStatus();
}

int Manager::runs_port() const {
  return parts_->runs ? parts_->runs->port() : parts_->config.runs.server.port;
}
int Manager::queue_port() const { return parts_->queue->port(); }
int Manager::executor_port() const {
  return parts_->executor ? parts_->executor->port() : parts_->config.executor.server.port;
}
const executor::Config& Manager::executor_config() const { return parts_->config.executor; }

void Manager::Shutdown() {
  Parts& p = *parts_;
  if (p.shut_down) return;
  p.shut_down = true;
  // The executor first: its final reports and lease releases still need both services.
  if (p.executor) p.executor->Shutdown();
  p.executor.reset();
  if (p.runs) p.runs->Shutdown();
  p.runs.reset();
  if (p.queue) p.queue->Shutdown();
  p.queue.reset();
}

int Main(int argc, const char* const* argv) {
  static Config config;
  static std::unique_ptr<Manager> manager;
  app::Program program;
  program.name = "flyte-manager";
  program.version = FLYTE_VERSION;
  program.load_config = [](const std::string& file) -> absl::Status {
    absl::StatusOr<Config> loaded = LoadConfig(file);
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
    return absl::OkStatus();
  };
  program.logger = [] { return config.logger(); };
  program.start = [](app::ShutdownSequence& shutdown) -> absl::Status {
    absl::StatusOr<std::unique_ptr<Manager>> created = Manager::Create(config);
    if (!created.ok()) return created.status();
    manager = std::move(*created);
    shutdown.Add("flyte-manager", [] {
      manager->Shutdown();
      manager.reset();
    });
    return manager->Start();
  };
  return app::RunMain(argc, argv, program);
}

}  // namespace flyte::manager
