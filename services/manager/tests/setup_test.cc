// flyte-manager end to end in one process: the three services on free ports, one SQLite file holding both
// schemas, gRPC clients on the runs and queue ports, health on all three, clean ordered shutdown.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>
#include <grpcpp/grpcpp.h>

#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"
#include "setup.h"

namespace flyte::manager {
namespace {

namespace wf = flyteidl2::workflow;

// GET `path` on 127.0.0.1:port over HTTP/1.1; returns the status line ("" if nothing answered).
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out.substr(0, out.find("\r\n"));
}

Config TestConfig(const testing::TempDir& dir) {
  Config c = DefaultConfig();
  c.runs.server.host = "127.0.0.1";
  c.runs.server.port = 0;
  c.queue.server.host = "127.0.0.1";
  c.queue.server.port = 0;
  c.executor.server.host = "127.0.0.1";
  c.executor.server.port = 0;
  c.executor.data_root = (dir.path() / "data").string();
  c.runs.storage_prefix = "file://" + (dir.path() / "data").string();
  c.runs.database.sqlite->file = (dir.path() / "flyte.db").string();
  c.runs.projects = "p";  // the project and domain the runs below are created in
  c.runs.domains = "d";
  c.queue.database = c.runs.database;
  return c;
}

std::set<std::string> Tables(const std::string& file) {
  SQLite::Database db(file, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  std::set<std::string> names;
  while (q.executeStep()) names.insert(q.getColumn(0).getString());
  return names;
}

TEST_CASE("flyte-manager runs all three services on one SQLite file", "[sqlite][e2e]") {
  testing::TempDir dir("flyte-manager");
  const Config config = TestConfig(dir);
  absl::StatusOr<std::unique_ptr<Manager>> manager = Manager::Create(config);
  REQUIRE(manager.ok());
  const absl::Status started = (*manager)->Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  const int runs_port = (*manager)->runs_port();
  const int queue_port = (*manager)->queue_port();
  REQUIRE(runs_port > 0);
  REQUIRE(queue_port > 0);
  REQUIRE((*manager)->executor_port() > 0);
  CHECK(runs_port != queue_port);
  CHECK((*manager)->executor_config().queue_endpoint == "127.0.0.1:" + std::to_string(queue_port));
  CHECK((*manager)->executor_config().runs_endpoint == "127.0.0.1:" + std::to_string(runs_port));

  SECTION("both schemas live side by side in the one file") {
    const std::set<std::string> tables = Tables(config.runs.database.sqlite->file);
    for (const char* t : {"actions", "tasks", "projects", "queue_entries", "schema_migrations",
                          "queue_schema_migrations"}) {
      INFO(t);
      CHECK(tables.count(t) == 1);
    }
  }

  SECTION("health on every port") {
    for (int port : {runs_port, queue_port, (*manager)->executor_port()}) {
      INFO(port);
      CHECK(HttpGet(port, "/healthz") == "HTTP/1.1 200 OK");
    }
    CHECK(HttpGet(runs_port, "/readyz") == "HTTP/1.1 200 OK");
    CHECK(HttpGet(queue_port, "/readyz") == "HTTP/1.1 200 OK");
  }

  SECTION("runs and queue answer gRPC on their own ports") {
    auto runs = wf::RunService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(runs_port), grpc::InsecureChannelCredentials()));
    wf::CreateRunRequest create;
    create.mutable_run_id()->set_org("o");
    create.mutable_run_id()->set_project("p");
    create.mutable_run_id()->set_domain("d");
    create.mutable_run_id()->set_name("r1");
    create.mutable_task_spec()->mutable_task_template()->mutable_id()->set_name("t");
    wf::CreateRunResponse created;
    grpc::ClientContext c1;
    grpc::Status s = runs->CreateRun(&c1, create, &created);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(created.run().action().id().run().name() == "r1");

    wf::ListRunsRequest list;
    list.set_org("o");
    wf::ListRunsResponse listed;
    grpc::ClientContext c2;
    REQUIRE(runs->ListRuns(&c2, list, &listed).ok());
    CHECK(listed.runs_size() == 1);

    // The queue is a different service on a different port: RunService is not there.
    auto wrong = wf::RunService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(queue_port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext c3;
    CHECK(wrong->ListRuns(&c3, list, &listed).error_code() == grpc::StatusCode::UNIMPLEMENTED);

    auto queue = wf::QueueService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(queue_port), grpc::InsecureChannelCredentials()));
    wf::AbortQueuedRunRequest abort;
    *abort.mutable_run_id() = create.run_id();
    wf::AbortQueuedRunResponse aborted;
    grpc::ClientContext c4;
    grpc::Status qs = queue->AbortQueuedRun(&c4, abort, &aborted);
    INFO(qs.error_message());
    CHECK(qs.error_code() != grpc::StatusCode::UNIMPLEMENTED);
    CHECK(qs.error_code() != grpc::StatusCode::UNAVAILABLE);
  }

  (*manager)->Shutdown();
  CHECK(HttpGet(runs_port, "/healthz").empty());
  CHECK(HttpGet(queue_port, "/healthz").empty());
}

TEST_CASE("a second manager on the same executor data root fails to start, cleanly", "[sqlite][e2e]") {
  testing::TempDir dir("flyte-manager");
  const Config config = TestConfig(dir);
  absl::StatusOr<std::unique_ptr<Manager>> first = Manager::Create(config);
  REQUIRE(first.ok());
  REQUIRE((*first)->Start().ok());
  absl::StatusOr<std::unique_ptr<Manager>> second = Manager::Create(config);
  REQUIRE(second.ok());  // same database file: fine (WAL), migrations already applied
  absl::Status s = (*second)->Start();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  (*second)->Shutdown();
  (*first)->Shutdown();
}

}  // namespace
}  // namespace flyte::manager
