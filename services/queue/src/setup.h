#pragma once
// Builds the queue-service object graph:
//   WorkPool (workerThreads + maxWaitingAcquires threads, so parked long-polls never starve other calls)
//   -> metrics Registry -> the queue: a QueueBackend (OpenQueueBackend: SQLite or PostgreSQL, migrated), or with
//      queue.backend kubernetes a kube::Client and a KubernetesActionQueue (TaskActions; no leases, no database)
//   -> QueueModule (use cases + maintenance thread, QueueService, EnqueueBatchService and LeaseService registered
//      on a Router)
//   -> one-port rpc::Server (gRPC + Connect, /healthz, /readyz = backend Ping, /metrics).
// QueueModule is the part an all-in-one binary (flyte-manager) hosts on its own Router and backend.
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.h"
#include "flyte/common/clock.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/router.h"
#include "flyte/rpc/server.h"
#include "repository/queue_backend.h"
#include "service/queue_use_cases.h"

namespace flyte::queue {

QueueOptions ToQueueOptions(const Config& config);

// The queue's use cases and RPC handlers, on a Router and backend owned by the caller (both must outlive it).
// Construction registers QueueService, EnqueueBatchService and LeaseService on `router` and starts the maintenance
// thread.
class QueueModule {
 public:
  QueueModule(rpc::Router& router, QueueBackend& backend, metrics::Registry* metrics, const QueueOptions& options,
              common::Clock& clock = common::Clock::System());
  // A queue without leases (Kubernetes): LeaseService answers FAILED_PRECONDITION.
  QueueModule(rpc::Router& router, ActionQueue& queue, QueueBackend* leases, metrics::Registry* metrics,
              const QueueOptions& options, common::Clock& clock = common::Clock::System());
  ~QueueModule();  // Shutdown()

  QueueUseCases& use_cases() { return *use_cases_; }
  // Wakes waiting Acquire calls and stops maintenance. Call before shutting the server down so long-polls end
  // promptly. Idempotent.
  void Shutdown();

 private:
  std::unique_ptr<QueueUseCases> use_cases_;
};

class QueueService {
 public:
  // Opens (and migrates) the database and builds everything; the server is created but not listening.
  // kUnavailable if the database cannot be reached, kInternal if migrations fail.
  static absl::StatusOr<std::unique_ptr<QueueService>> Create(const Config& config);
  ~QueueService();  // Shutdown()
  QueueService(const QueueService&) = delete;
  QueueService& operator=(const QueueService&) = delete;

  // Binds queue.server.host:port and serves. kUnavailable naming the address if the bind fails.
  absl::Status Start();
  int port() const;  // bound port after Start, configured one before

  rpc::Server& server();
  metrics::Registry& metrics();
  QueueModule& module();
  ActionQueue& queue();
  // The SQL backend; only with queue.backend sql (aborts otherwise).
  QueueBackend& backend();

  // Ordered: wake long-polls -> stop accepting and drain in-flight calls -> stop workers -> close the database.
  // Idempotent; also run by the destructor.
  void Shutdown();

  struct Parts;

 private:
  explicit QueueService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// main() of the queue-service binary: flags, config (exit 2 listing every problem), run until SIGTERM/SIGINT.
int Main(int argc, const char* const* argv);

}  // namespace flyte::queue
