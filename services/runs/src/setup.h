#pragma once
// Builds the runs-service object graph from a Config and runs it:
//   WorkPool (runs.workerThreads, runs.maxQueuedRequests) -> metrics Registry -> Store (OpenStore, with a query
//   hook feeding flyte_db_query_duration_seconds) -> use cases -> RunService, TaskService and StateService
//   adapters registered on one Router -> one-port rpc::Server (gRPC + Connect, /healthz, /readyz = store Ping,
//   /metrics).
// Everything but main() lives here so tests (the contract test, setup_test) build exactly what ships.
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/router.h"
#include "flyte/rpc/server.h"

namespace flyte::runs {

class RunsService {
 public:
  // Opens (and migrates) the database and builds everything; the server is created but not listening.
  // kUnavailable if the database cannot be reached, kInternal if migrations fail.
  static absl::StatusOr<std::unique_ptr<RunsService>> Create(const Config& config);
  ~RunsService();  // Shutdown()
  RunsService(const RunsService&) = delete;
  RunsService& operator=(const RunsService&) = delete;

  // Binds runs.server.host:port and serves. kUnavailable naming the address if the bind fails.
  absl::Status Start();
  // The bound port (after Start; the configured one before).
  int port() const;

  rpc::Router& router();
  rpc::Server& server();
  metrics::Registry& metrics();

  // Ordered: stop accepting and drain in-flight calls (open streams end UNAVAILABLE) -> stop the database
  // workers -> close the database. Idempotent; also run by the destructor.
  void Shutdown();

  struct Parts;

 private:
  explicit RunsService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// main() of the runs-service binary: flags, config (exit 2 listing every problem), run until SIGTERM/SIGINT.
int Main(int argc, const char* const* argv);

}  // namespace flyte::runs
