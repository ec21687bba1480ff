#pragma once
// Builds the executor object graph from a Config and runs it:
//   executor.runtime local: Journal (<dataRoot>/.executor: lock, executor id, crash journal) -> gRPC channels to
//     queue-service and runs-service -> GrpcLeaseClient, GrpcStateClient -> StateReporter -> Executor
//     (LocalRuntime inside)
//   executor.runtime kubernetes: kube::Client (kubeconfig or in-cluster) -> GrpcStateClient -> StateReporter ->
//     k8s::TaskActionController (watches TaskActions and Pods, creates Pods; no queue-service connection)
//   -> rpc::Server with no RPCs, serving /healthz, /readyz (= the executor took up work) and /metrics.
// ExecutorModule is the part an all-in-one binary (flyte-manager) hosts with its own registry and channels
// (e.g. in-process channels to the queue and runs servers it also hosts).
#include <memory>

#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/server.h"
#include "service/executor.h"

namespace flyte::executor {

// Options for the Executor from a config (data root made absolute).
ExecutorOptions ToExecutorOptions(const Config& config);
// "localhost:8089" -> a gRPC target; a target with a scheme ("dns:///...", "unix:...") is kept.
std::string GrpcTarget(const std::string& endpoint);

class ExecutorModule {
 public:
  // Opens the journal (kFailedPrecondition if another executor uses the data root) and builds the clients and the
  // executor; nothing runs until Start. `metrics` may be null; channels must stay usable until Shutdown.
  static absl::StatusOr<std::unique_ptr<ExecutorModule>> Create(const Config& config, metrics::Registry* metrics,
                                                                std::shared_ptr<grpc::Channel> queue,
                                                                std::shared_ptr<grpc::Channel> runs);
  ~ExecutorModule();  // Shutdown()

  // Journal recovery, then the acquire and heartbeat loops.
  absl::Status Start();
  // Ordered: stop acquiring -> kill processes -> flush final reports -> release leases -> stop the reporter.
  void Shutdown();

  // The local runtime's executor; only with executor.runtime local (aborts otherwise).
  Executor& executor();
  const std::string& executor_id() const;
  // Taking work: the local executor recovered its journal; the Kubernetes controller filled its caches.
  absl::Status Ready() const;

  struct Parts;

 private:
  explicit ExecutorModule(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

class ExecutorService {
 public:
  static absl::StatusOr<std::unique_ptr<ExecutorService>> Create(const Config& config);
  ~ExecutorService();  // Shutdown()
  ExecutorService(const ExecutorService&) = delete;
  ExecutorService& operator=(const ExecutorService&) = delete;

  // Binds executor.server.host:port (kUnavailable naming it if taken), then starts the module.
  absl::Status Start();
  int port() const;
  metrics::Registry& metrics();
  ExecutorModule& module();
  void Shutdown();

  struct Parts;

 private:
  explicit ExecutorService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// main() of the executor binary: flags, config (exit 2 listing every problem), run until SIGTERM/SIGINT.
int Main(int argc, const char* const* argv);

}  // namespace flyte::executor
