// flyte-manager's config: the seed's manager keys, one database for every service, each service's own section
// checked by that service's parser, every problem reported at once.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "config.h"

namespace flyte::manager {
namespace {

std::string Message(const absl::StatusOr<Config>& c) { return std::string(c.status().message()); }

TEST_CASE("defaults: seed ports and one SQLite file for runs and queue", "[unit]") {
  absl::StatusOr<Config> c = LoadConfig("");
  REQUIRE(c.ok());
  CHECK(c->runs.server.port == 8090);
  CHECK(c->queue.server.port == 8089);
  CHECK(c->executor.server.port == 8081);
  REQUIRE(c->runs.database.sqlite);
  CHECK(c->runs.database.sqlite->file == "./flyte.db");
  REQUIRE(c->queue.database.sqlite);
  CHECK(c->queue.database.sqlite->file == "./flyte.db");
  CHECK_FALSE(c->runs.database.postgres);

  absl::StatusOr<Config> empty = ParseConfig("");
  REQUIRE(empty.ok());
  CHECK(empty->queue.database.sqlite->file == "./flyte.db");
}

TEST_CASE("the seed's config (without kubernetes) is accepted", "[unit]") {
  absl::StatusOr<Config> c = ParseConfig(R"(
manager:
  runsService:
    host: "127.0.0.1"
    port: 9090
  queueService:
    host: "0.0.0.0"
    port: 9089
  executor:
    healthProbePort: 9081
database:
  type: "sqlite"
  sqlite:
    file: "all.db"
logger:
  level: 5
  show-source: true
)");
  REQUIRE(c.ok());
  CHECK(c->runs.server.host == "127.0.0.1");
  CHECK(c->runs.server.port == 9090);
  CHECK(c->queue.server.port == 9089);
  CHECK(c->executor.server.port == 9081);
  CHECK(c->runs.database.sqlite->file == "all.db");
  CHECK(c->queue.database.sqlite->file == "all.db");
  CHECK(c->logger().level == 5);
  CHECK(c->queue.logger.level == 5);
  CHECK(c->executor.logger.show_source);
}

TEST_CASE("a sqlite section without a file still uses the manager's file", "[unit]") {
  absl::StatusOr<Config> c = ParseConfig("database:\n  sqlite:\n    busyTimeout: 2s\n");
  REQUIRE(c.ok());
  CHECK(c->runs.database.sqlite->file == "./flyte.db");
  CHECK(c->runs.database.sqlite->busy_timeout == std::chrono::milliseconds(2000));
  CHECK(c->queue.database.sqlite->busy_timeout == std::chrono::milliseconds(2000));
}

TEST_CASE("pass-through sections reach their service", "[unit]") {
  absl::StatusOr<Config> c = ParseConfig(R"(
runs:
  watchBufferSize: 7
  workerThreads: 3
queue:
  leaseDuration: 20s
  maxWaitingAcquires: 4
executor:
  maxConcurrentProcesses: 2
  dataRoot: /tmp/somewhere
)");
  REQUIRE(c.ok());
  CHECK(c->runs.watch_buffer_size == 7);
  CHECK(c->runs.worker_threads == 3);
  CHECK(c->queue.lease_duration == std::chrono::milliseconds(20000));
  CHECK(c->queue.max_waiting_acquires == 4);
  CHECK(c->executor.max_concurrent_processes == 2);
  CHECK(c->executor.data_root == "/tmp/somewhere");
  // Ports stay the manager's.
  CHECK(c->runs.server.port == 8090);
  CHECK(c->queue.server.port == 8089);
}

TEST_CASE("postgres: one database for runs and queue, password from the environment", "[unit]") {
  setenv("FLYTE_MANAGER_TEST_PW", "s3cret", 1);
  absl::StatusOr<Config> c = ParseConfig(R"(
database:
  type: postgres
  postgres:
    host: db
    port: 5432
    dbname: flyte
    username: flyte
    passwordEnv: FLYTE_MANAGER_TEST_PW
)");
  REQUIRE(c.ok());
  REQUIRE(c->runs.database.postgres);
  REQUIRE(c->queue.database.postgres);
  CHECK_FALSE(c->queue.database.sqlite);
  CHECK(c->queue.database.postgres->host == "db");
  CHECK(c->queue.database.postgres->password == "s3cret");
}

TEST_CASE("every problem is reported at once, with its full path", "[unit]") {
  absl::StatusOr<Config> c = ParseConfig(R"(
manager:
  runsService:
    port: 70000
  queueServce: {}
  kubernetes:
    namespace: flyte
    contxt: x
runs:
  server:
    port: 1
  watchBuferSize: 3
queue:
  leaseDuration: soon
executor:
  queueEndpoint: "elsewhere:1"
  bogus: 1
database:
  sqlte: {}
toplevel: 1
)");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string m = Message(c);
  CHECK_THAT(m, Catch::Contains("manager.runsService.port"));
  CHECK_THAT(m, Catch::Contains("manager.queueServce"));
  CHECK_THAT(m, Catch::Contains("manager.kubernetes.contxt: unknown key"));
  CHECK_THAT(m, Catch::Contains("runs.server: set by flyte-manager; use manager.runsService instead"));
  CHECK_THAT(m, Catch::Contains("runs.watchBuferSize"));
  CHECK_THAT(m, Catch::Contains("queue.leaseDuration"));
  CHECK_THAT(m, Catch::Contains("executor.queueEndpoint: set by flyte-manager"));
  CHECK_THAT(m, Catch::Contains("executor.bogus"));
  CHECK_THAT(m, Catch::Contains("database.sqlte"));
  CHECK_THAT(m, Catch::Contains("toplevel"));
}

TEST_CASE("manager.kubernetes puts the queue and the executor on the cluster", "[unit]") {
  absl::StatusOr<Config> c = ParseConfig(R"(
manager:
  kubernetes:
    namespace: flyte-test
    kubeconfig: /etc/kube/config
executor:
  kubernetes:
    serviceAccountName: flyte-task
)");
  REQUIRE(c.ok());
  CHECK(c->queue.backend == queue::Backend::kKubernetes);
  CHECK(c->queue.kubernetes.ns == "flyte-test");
  CHECK(c->queue.kubernetes.kubeconfig == "/etc/kube/config");
  CHECK(c->executor.runtime == executor::Runtime::kKubernetes);
  CHECK(c->executor.kubernetes.ns == "flyte-test");
  CHECK(c->executor.kubernetes.kubeconfig == "/etc/kube/config");
  CHECK(c->executor.kubernetes.service_account == "flyte-task");
  CHECK(c->executor.data_root.front() == '/');  // made absolute: task Pods mount the data volume there
  CHECK(c->runs.database.sqlite);                 // runs stay in the manager's database
  // TailLogs reads the task Pods' logs through the API server.
  CHECK(c->runs.logs.source == runs::LogSourceKind::kKubernetes);
  CHECK(c->runs.logs.kubernetes.ns == "flyte-test");
  CHECK(c->runs.logs.kubernetes.kubeconfig == "/etc/kube/config");

  absl::StatusOr<Config> clash = ParseConfig(R"(
manager:
  kubernetes: {namespace: a}
queue:
  backend: sql
executor:
  runtime: local
  kubernetes: {namespace: b}
)");
  REQUIRE_FALSE(clash.ok());
  const std::string m = Message(clash);
  CHECK_THAT(m, Catch::Contains("queue.backend: set by flyte-manager; use manager.kubernetes instead"));
  CHECK_THAT(m, Catch::Contains("executor.runtime: set by flyte-manager; use manager.kubernetes instead"));
  CHECK_THAT(m, Catch::Contains("executor.kubernetes.namespace: set by flyte-manager"));

  absl::StatusOr<Config> files = ParseConfig("manager: {kubernetes: {namespace: a}}\nruns: {logs: {source: files}}\n");
  REQUIRE(files.ok());  // an explicit runs.logs.source wins (e.g. task Pods share the data volume)
  CHECK(files->runs.logs.source == runs::LogSourceKind::kFiles);
  absl::StatusOr<Config> own = ParseConfig(
      "manager: {kubernetes: {namespace: a}}\nruns: {logs: {source: kubernetes, kubernetes: {namespace: b}}}\n");
  REQUIRE_FALSE(own.ok());
  CHECK_THAT(Message(own), Catch::Contains("runs.logs.kubernetes: set by flyte-manager"));

  absl::StatusOr<Config> local = ParseConfig("manager: {}\n");
  REQUIRE(local.ok());
  CHECK(local->runs.logs.source == runs::LogSourceKind::kFiles);
  CHECK(local->queue.backend == queue::Backend::kSql);
  CHECK(local->executor.runtime == executor::Runtime::kLocal);
}

TEST_CASE("bad YAML and a missing file", "[unit]") {
  CHECK(ParseConfig("manager: [").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(LoadConfig("/nonexistent/flyte-manager.yaml").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("the shipped deploy/config/flyte-manager.yaml is valid", "[unit]") {
  absl::StatusOr<Config> c = LoadConfig(FLYTE_SOURCE_DIR "/deploy/config/flyte-manager.yaml");
  REQUIRE(c.ok());
  CHECK(c->runs.server.port == 8090);
  CHECK(c->queue.server.port == 8089);
  CHECK(c->executor.server.port == 8081);
}

}  // namespace
}  // namespace flyte::manager
