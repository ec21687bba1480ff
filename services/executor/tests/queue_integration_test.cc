// The executor against the REAL queue-service library (flyte_queue_lib: use cases, SQLite backend, LeaseService
// and QueueService handlers) hosted in-process on a real port; runs-service is the StateService test double.
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/common/work_pool.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "clients/grpc_lease_client.h"
#include "clients/grpc_state_client.h"
#include "repository/backend_factory.h"
#include "service/executor.h"
#include "service/journal.h"
#include "setup.h"  // queue-service's (its include dir comes first for this test; see CMakeLists.txt)
#include "support/service_doubles.h"

namespace flyte::executor {
namespace {
using namespace std::chrono_literals;
using testing::ShellAction;
using testing::TestStateService;

class RealQueue {
 public:
  explicit RealQueue(std::chrono::milliseconds lease_duration = 1500ms)
      : pool_("queue-test", 24, 1000), router_(&pool_) {
    state.Register(router_);
    auto backend = queue::OpenQueueBackend(db_.database_config());
    if (!backend.ok()) throw std::runtime_error(backend.status().ToString());
    backend_ = std::move(*backend);
    queue::QueueOptions o;
    o.lease_duration = lease_duration;
    o.poll_interval = 100ms;
    module_ = std::make_unique<queue::QueueModule>(router_, *backend_, nullptr, o);
    rpc::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.shutdown_grace = 500ms;
    server_ = std::make_unique<rpc::Server>(&router_, so);
    if (!server_->Start().ok()) throw std::runtime_error("server start");
  }
  ~RealQueue() {
    module_->Shutdown();
    server_->Shutdown();
    pool_.Shutdown();
  }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  }
  void Enqueue(const flyteidl2::workflow::EnqueueActionRequest& r) {
    auto stub = flyteidl2::workflow::QueueService::NewStub(Channel());
    grpc::ClientContext ctx;
    flyteidl2::workflow::EnqueueActionResponse resp;
    grpc::Status s = stub->EnqueueAction(&ctx, r, &resp);
    if (!s.ok()) throw std::runtime_error("enqueue: " + s.error_message());
  }
  void AbortAction(const std::string& name) {
    auto stub = flyteidl2::workflow::QueueService::NewStub(Channel());
    grpc::ClientContext ctx;
    flyteidl2::workflow::AbortQueuedActionRequest req;
    *req.mutable_action_id() = ShellAction(name, "").action_id();
    req.set_reason("test abort");
    flyteidl2::workflow::AbortQueuedActionResponse resp;
    grpc::Status s = stub->AbortQueuedAction(&ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("abort: " + s.error_message());
  }

  TestStateService state;

 private:
  flyte::testing::TempSqlite db_;
  common::WorkPool pool_;
  rpc::Router router_;
  std::unique_ptr<queue::QueueBackend> backend_;
  std::unique_ptr<queue::QueueModule> module_;
  std::unique_ptr<rpc::Server> server_;
};

// The executor's object graph as ExecutorModule builds it, on the given channel.
struct TestExecutor {
  TestExecutor(std::shared_ptr<grpc::Channel> channel, const std::string& data_root, size_t max_processes,
               std::chrono::milliseconds heartbeat_interval = 0ms) {
    auto j = Journal::Open(data_root + "/.executor");
    if (!j.ok()) throw std::runtime_error(j.status().ToString());
    journal = std::move(*j);
    leases = std::make_unique<GrpcLeaseClient>(channel, journal->executor_id());
    state = std::make_unique<GrpcStateClient>(channel);
    reporter = std::make_unique<StateReporter>(*state);
    ExecutorOptions o;
    o.runtime.data_root = data_root;
    o.runtime.max_concurrent = max_processes;
    o.runtime.abort_grace = 500ms;
    o.acquire_wait = 300ms;
    o.heartbeat_interval = heartbeat_interval;  // 0: a third of the real lease duration
    executor = std::make_unique<Executor>(o, *leases, *state, *reporter, *journal, nullptr);
    if (!executor->Start().ok()) throw std::runtime_error("start");
  }
  ~TestExecutor() { Shutdown(); }
  void Shutdown() {
    if (executor) executor->Shutdown();
    if (reporter) reporter->Shutdown();
  }
  std::unique_ptr<Journal> journal;
  std::unique_ptr<GrpcLeaseClient> leases;
  std::unique_ptr<GrpcStateClient> state;
  std::unique_ptr<StateReporter> reporter;
  std::unique_ptr<Executor> executor;
};

std::unique_ptr<TestExecutor> StartExecutor(RealQueue& q, const std::string& data_root, size_t max_processes) {
  return std::make_unique<TestExecutor>(q.Channel(), data_root, max_processes);
}

TEST_CASE("two executors share one real queue: every action runs exactly once", "[executor][queue_integration]") {
  RealQueue q;
  testing::TempDir d1, d2;
  const int n = 8;
  for (int i = 0; i < n; ++i) q.Enqueue(ShellAction("a" + std::to_string(i), "sleep 0.2"));
  auto e1 = StartExecutor(q, d1.path(), 2);
  auto e2 = StartExecutor(q, d2.path(), 2);
  for (int i = 0; i < n; ++i) {
    const std::string name = "a" + std::to_string(i);
    REQUIRE(q.state.WaitPhase(name, Phase::kSucceeded, 20s));
  }
  for (int i = 0; i < n; ++i) {
    const std::string name = "a" + std::to_string(i);
    CHECK(q.state.Trace(name) == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  }
  // Both executors took part, and both let go of everything (leases completed).
  auto settle = std::chrono::steady_clock::now() + 5s;
  while ((e1->executor->held_leases() + e2->executor->held_leases()) > 0 &&
         std::chrono::steady_clock::now() < settle) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(e1->executor->held_leases() == 0);
  CHECK(e2->executor->held_leases() == 0);
}

TEST_CASE("completes go to the real queue in one batch call, each lease answered", "[executor][queue_integration]") {
  RealQueue q;
  for (const char* name : {"a1", "a2"}) q.Enqueue(ShellAction(name, "true"));
  GrpcLeaseClient client(q.Channel(), "exec-batch");
  auto got = client.Acquire(2, 0ms);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  auto out = client.CompleteBatch({Completion{(*got)[0].id, Phase::kSucceeded}, Completion{"bogus", Phase::kFailed},
                                   Completion{(*got)[1].id, Phase::kFailed}});
  REQUIRE(out.ok());
  REQUIRE(out->size() == 3);
  CHECK((*out)[0].ok());
  CHECK((*out)[1].code() == absl::StatusCode::kFailedPrecondition);
  CHECK((*out)[2].ok());
  // Both are over: a second Complete is refused and nothing is handed out again.
  CHECK(client.Complete((*got)[0].id, Phase::kSucceeded).code() == absl::StatusCode::kFailedPrecondition);
  auto more = client.Acquire(2, 0ms);
  REQUIRE(more.ok());
  CHECK(more->empty());
}

TEST_CASE("against a queue-service without CompleteBatch, completes fall back to one call per lease",
          "[executor][queue_integration]") {
  // A server that serves LeaseService.Complete only (an older queue-service).
  common::WorkPool pool("old-queue", 2, 100);
  rpc::Router router(&pool);
  std::mutex mu;
  std::vector<std::string> completed;
  router.Unary<flyte::internal::queue::v1::CompleteRequest, flyte::internal::queue::v1::CompleteResponse>(
      "flyte.internal.queue.v1.LeaseService", "Complete",
      [&](const rpc::CallContext&, const flyte::internal::queue::v1::CompleteRequest& req,
          flyte::internal::queue::v1::CompleteResponse*) {
        std::lock_guard<std::mutex> lock(mu);
        completed.push_back(req.lease_id() + ":" + std::to_string(req.final_phase()));
        if (req.lease_id() == "lost") return absl::FailedPreconditionError("lease lost is not held");
        return absl::OkStatus();
      });
  rpc::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.shutdown_grace = 200ms;
  rpc::Server server(&router, so);
  REQUIRE(server.Start().ok());
  GrpcLeaseClient client(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()), "e1");
  for (int round = 0; round < 2; ++round) {  // the second round knows at once that there is no batch API
    auto out = client.CompleteBatch({Completion{"l1", Phase::kSucceeded}, Completion{"lost", Phase::kFailed}});
    REQUIRE(out.ok());
    REQUIRE(out->size() == 2);
    CHECK((*out)[0].ok());
    CHECK((*out)[1].code() == absl::StatusCode::kFailedPrecondition);
  }
  const std::string ok = "l1:" + std::to_string(static_cast<int>(Phase::kSucceeded));
  const std::string lost = "lost:" + std::to_string(static_cast<int>(Phase::kFailed));
  std::lock_guard<std::mutex> lock(mu);
  CHECK(completed == std::vector<std::string>{ok, lost, ok, lost});
  server.Shutdown();
  pool.Shutdown();
}

TEST_CASE("aborting a running action through the real queue stops it", "[executor][queue_integration]") {
  RealQueue q;
  testing::TempDir d;
  q.Enqueue(ShellAction("a1", "exec sleep 30"));
  auto e = StartExecutor(q, d.path(), 2);
  REQUIRE(q.state.WaitPhase("a1", Phase::kRunning, 10s));
  q.AbortAction("a1");
  REQUIRE(q.state.WaitPhase("a1", Phase::kAborted, 10s));
  CHECK(q.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:ABORTED");
}

TEST_CASE("an abort reaches the executor through queue-service's stream, not at the next heartbeat",
          "[executor][queue_integration]") {
  RealQueue q(60s);
  testing::TempDir d;
  // Heartbeats every 20 s: an abort that took the heartbeat path could not stop the task within the test's bound.
  TestExecutor e(q.Channel(), d.path(), 2, 20s);
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!e.executor->abort_stream_live() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(e.executor->abort_stream_live());
  q.Enqueue(ShellAction("a1", "exec sleep 30"));
  REQUIRE(q.state.WaitPhase("a1", Phase::kRunning, 10s));
  const auto start = std::chrono::steady_clock::now();
  q.AbortAction("a1");
  REQUIRE(q.state.WaitPhase("a1", Phase::kAborted, 5s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  INFO("abort to ABORTED took " << took.count() << " ms");
  CHECK(took < 2s);
  CHECK(q.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:ABORTED");
}

TEST_CASE("an executor that stops mid-action gives the lease back and another one finishes it",
          "[executor][queue_integration]") {
  RealQueue q;
  testing::TempDir d1, d2;
  q.Enqueue(ShellAction("a1", "sleep 30"));
  auto e1 = StartExecutor(q, d1.path(), 1);
  REQUIRE(q.state.WaitPhase("a1", Phase::kRunning, 10s));
  e1->Shutdown();  // kills the process, releases the lease
  // The second executor takes over as attempt 2, after closing attempt 1 (the phase rule would refuse
  // RUNNING -> INITIALIZING otherwise).
  auto e2 = StartExecutor(q, d2.path(), 1);
  REQUIRE(q.state.WaitPhase("a1", Phase::kInitializing, 10s));
  auto until = std::chrono::steady_clock::now() + 10s;
  while (q.state.Trace("a1") != "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING" &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(q.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING");
  CHECK(q.state.rejected() == 0);
}

}  // namespace
}  // namespace flyte::executor
