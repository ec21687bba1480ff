#pragma once
// The two services of the queue_dispatcher tests, in-process on real ports: queue-service as its library
// (flyte_queue_lib) and runs-service's store, outbox dispatcher, use cases and API; plus a CreateRun with an inline
// task and a decoder for what queue-service stored.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "api/runs_api.h"
#include "clients/grpc_queue_client.h"
#include "flyte/common/work_pool.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/server.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "queue/src/repository/backend_factory.h"
#include "queue/src/setup.h"
#include "repository/store_factory.h"
#include "service/queue_dispatcher.h"

namespace flyte::runs::test {

using namespace std::chrono_literals;
namespace wf = flyteidl2::workflow;

// queue-service as its library: backend + QueueModule on a Router + one-port server. Can be stopped and started
// again on the same port (its SQLite file stays).
class RealQueue {
 public:
  RealQueue() {
    auto backend = queue::OpenQueueBackend(db_.database_config());
    REQUIRE(backend.ok());
    backend_ = std::move(*backend);
  }
  ~RealQueue() { Stop(); }

  void Start(int port = 0) {
    pool_ = std::make_unique<common::WorkPool>("queue-test", 8, 1000);
    router_ = std::make_unique<rpc::Router>(pool_.get());
    queue::QueueOptions o;
    o.lease_duration = 3000ms;
    o.poll_interval = 50ms;
    module_ = std::make_unique<queue::QueueModule>(*router_, *backend_, nullptr, o);
    rpc::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = port;
    so.shutdown_grace = 200ms;
    server_ = std::make_unique<rpc::Server>(router_.get(), so);
    REQUIRE(server_->Start().ok());
    port_ = server_->port();
  }
  void Stop() {
    if (!server_) return;
    module_->Shutdown();
    server_->Shutdown();
    pool_->Shutdown();
    server_.reset();
    module_.reset();
    router_.reset();
    pool_.reset();
  }
  int port() const { return port_; }
  queue::QueueBackend& backend() { return *backend_; }

  // The entry for `action` of run `run` in org/proj/dev, if queue-service has it.
  std::optional<queue::QueueEntry> Entry(const std::string& run, const std::string& action = "a0") {
    auto e = backend_->Get(queue::ActionKey{queue::RunKey{"org", "proj", "dev", run}, action});
    if (!e.ok()) return std::nullopt;
    return *e;
  }

 private:
  testing::TempSqlite db_;
  std::unique_ptr<queue::QueueBackend> backend_;
  std::unique_ptr<common::WorkPool> pool_;
  std::unique_ptr<rpc::Router> router_;
  std::unique_ptr<queue::QueueModule> module_;
  std::unique_ptr<rpc::Server> server_;
  int port_ = 0;
};

// runs-service's pieces: store, dispatcher + gRPC queue client, use cases and API on a real port. `Close()` and
// `Open()` simulate a restart (same SQLite file).
class Runs {
 public:
  explicit Runs(int queue_port) : queue_port_(queue_port) { Open(); }
  ~Runs() { Close(); }

  void Open(bool start_dispatcher = true) {
    auto s = OpenStore(db_.database_config());
    REQUIRE(s.ok());
    store_ = std::move(*s);
    client_ = std::make_unique<GrpcQueueClient>(MakeQueueChannel("127.0.0.1:" + std::to_string(queue_port_), 200ms),
                                                1s);
    QueueDispatcherOptions o;
    o.min_backoff = 20ms;
    o.max_backoff = 200ms;
    o.poll_interval = 100ms;
    o.release_claims_at_start = true;
    dispatcher_ = std::make_unique<QueueDispatcher>(*store_, *client_, clock_, o, &metrics_);
    if (start_dispatcher) REQUIRE(dispatcher_->Start().ok());
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data_.path().string();
    options.queue = dispatcher_.get();
    api_ = BuildRunsApi(*store_, clock_, options);
    pool_ = std::make_unique<common::WorkPool>("runs-test", 4, 1000);
    router_ = std::make_unique<rpc::Router>(pool_.get());
    api_->Register(*router_);
    rpc::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.shutdown_grace = 200ms;
    server_ = std::make_unique<rpc::Server>(router_.get(), so);
    REQUIRE(server_->Start().ok());
  }
  void Close() {
    if (!store_) return;
    server_->Shutdown();
    api_->Shutdown();
    dispatcher_->Shutdown();
    pool_->Shutdown();
    server_.reset();
    router_.reset();
    api_.reset();
    pool_.reset();
    dispatcher_.reset();
    client_.reset();
    store_.reset();
  }

  RunUseCases& runs() { return api_->runs(); }
  Store& store() { return *store_; }
  QueueDispatcher& dispatcher() { return *dispatcher_; }
  // The value of the unlabelled sample `name` in /metrics text, or -1 when absent.
  double Metric(const std::string& name) {
    const std::string text = metrics_.Serialize();
    const std::string prefix = "\n" + name + " ";
    const size_t at = text.find(prefix);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + prefix.size()));
  }
  int64_t Pending() {
    auto n = store_->Outbox()->Count();
    REQUIRE(n.ok());
    return *n;
  }
  std::unique_ptr<wf::QueueService::Stub> QueueStub() {
    return wf::QueueService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  Phase PhaseOf(const std::string& run, const std::string& action = "a0") {
    auto a = store_->Actions().Get(ActionKey{RunKey{"org", "proj", "dev", run}, action});
    REQUIRE(a.ok());
    return a->phase;
  }

 private:
  int queue_port_;
  testing::TempSqlite db_;
  testing::TempDir data_{"flyte-runs-data"};
  common::Clock& clock_ = common::Clock::System();  // retry times are real: the dispatcher waits for them
  metrics::Registry metrics_;                         // outlives every dispatcher (the families stay registered)
  std::unique_ptr<Store> store_;
  std::unique_ptr<QueueClient> client_;
  std::unique_ptr<QueueDispatcher> dispatcher_;
  std::unique_ptr<RunsApi> api_;
  std::unique_ptr<common::WorkPool> pool_;
  std::unique_ptr<rpc::Router> router_;
  std::unique_ptr<rpc::Server> server_;
};

inline CreateRunParams NewRun(const std::string& name, const std::string& org = "org") {
  CreateRunParams p;
  p.run = RunKey{org, "proj", "dev", name};
  Task t;
  t.key = TaskKey{org, "proj", "dev", "hello", "v1"};
  flyteidl2::task::TaskSpec spec;
  spec.mutable_task_template()->set_type("python");
  spec.mutable_task_template()->mutable_container()->add_args("echo hi");
  spec.SerializeToString(&t.spec);
  t.short_name = "hello";
  t.task_type = "python";
  p.inline_task = t;
  p.inputs = std::string("inputs-bytes");
  return p;
}

inline wf::EnqueueActionRequest DecodePayload(const queue::QueueEntry& e) {
  wf::EnqueueActionRequest r;
  REQUIRE(r.ParseFromString(e.payload));
  return r;
}

}  // namespace flyte::runs::test
