#pragma once
// flyte-manager: runs-service, queue-service and the executor in one process, on one database.
//   queue-service (QueueService::Create/Start, its own port) -> runs-service (RunsService::Create/Start, its own
//   port) -> executor (ExecutorService, health/metrics port) talking to the two over localhost gRPC, exactly as
//   it would to remote services. Each part is built by that service's own setup; nothing is re-wired here.
// SQLite: every service opens the same file (WAL, busy_timeout); their migrations are recorded in separate tables
// (schema_migrations for runs, queue_schema_migrations for the queue) so both sets apply.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.h"

namespace flyte::runs { class RunsService; }
namespace flyte::queue { class QueueService; }
namespace flyte::executor { class ExecutorService; }

namespace flyte::manager {

class Manager {
 public:
  // Opens (and migrates) the database for runs and queue; nothing listens yet.
  // kUnavailable if the database cannot be reached, kInternal if migrations fail.
  static absl::StatusOr<std::unique_ptr<Manager>> Create(const Config& config);
  ~Manager();  // Shutdown()
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Binds the queue, then the runs port, then builds and starts the executor pointed at them. kUnavailable naming
  // the address if a bind fails, kFailedPrecondition if another executor holds executor.dataRoot.
  absl::Status Start();

  // Bound ports after Start (configured ones before).
  int runs_port() const;
  int queue_port() const;
  int executor_port() const;
  // The executor's config as started (endpoints filled in); valid after Start.
  const executor::Config& executor_config() const;

  // Ordered: executor (stops taking work, flushes reports, releases leases) -> runs-service -> queue-service.
  // Idempotent; also run by the destructor.
  void Shutdown();

  struct Parts;

 private:
  explicit Manager(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// "0.0.0.0" / "::" / "" (listen on every address) -> "127.0.0.1"; anything else unchanged. For the executor's
// endpoints to services bound in this process.
std::string LocalAddress(const std::string& bind_host);

// main() of flyte-manager: flags, config (exit 2 listing every problem), run until SIGTERM/SIGINT.
int Main(int argc, const char* const* argv);

}  // namespace flyte::manager
