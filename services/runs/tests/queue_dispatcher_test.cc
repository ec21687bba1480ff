// runs-service -> queue-service hand-off against the REAL queue-service library (flyte_queue_lib: use cases,
// SQLite backend, QueueService handlers) on a real port: the outbox is written with the change, survives a
// restart of runs-service, waits out a queue-service outage, forwards aborts, and QueueService.EnqueueAction served
// by runs-service records the child and forwards it verbatim.
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "api/runs_api.h"
#include "config.h"
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
#include "support/builders.h"

namespace flyte::runs {
namespace {

using namespace std::chrono_literals;
using test::WaitFor;
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

CreateRunParams NewRun(const std::string& name, const std::string& org = "org") {
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

wf::EnqueueActionRequest DecodePayload(const queue::QueueEntry& e) {
  wf::EnqueueActionRequest r;
  REQUIRE(r.ParseFromString(e.payload));
  return r;
}

TEST_CASE("a created run reaches queue-service with its task, inputs and run base", "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  Runs runs(q.port());
  auto created = runs.runs().CreateRun(NewRun("r1"));
  REQUIRE(created.ok());
  REQUIRE(WaitFor([&] { return q.Entry("r1").has_value(); }, 3s));
  wf::EnqueueActionRequest req = DecodePayload(*q.Entry("r1"));
  CHECK(req.action_id().name() == "a0");
  CHECK(req.task().id().name() == "hello");
  CHECK(req.task().id().version() == "v1");
  CHECK(req.task().spec().task_template().container().args(0) == "echo hi");
  CHECK(req.input_uri() == created->input_uri);
  CHECK(req.run_output_base() == created->run_output_base);
  CHECK(req.run_spec().has_run_start_time());
  CHECK(WaitFor([&] { return runs.Pending() == 0; }, 2s));
  CHECK(runs.dispatcher().sent() == 1);
}

TEST_CASE("queue-service down: CreateRun succeeds, the enqueue survives a runs restart and lands later",
          "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  const int port = q.port();
  q.Stop();  // nothing listens on `port` now

  Runs runs(port);
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  REQUIRE(runs.runs().CreateRun(NewRun("r2")).ok());
  CHECK(WaitFor([&] { return runs.dispatcher().failures() >= 2; }, 3s));  // retried, not given up
  CHECK(runs.Pending() == 2);

  runs.Close();  // runs-service restarts while the queue is still down
  runs.Open(/*start_dispatcher=*/false);
  CHECK(runs.Pending() == 2);
  std::this_thread::sleep_for(250ms);              // past the last retry time (max backoff 200ms)
  CHECK_FALSE(runs.dispatcher().RunOnce().ok());  // still down: kept
  CHECK(runs.Pending() == 2);

  q.Start(port);
  REQUIRE(runs.dispatcher().Start().ok());
  CHECK(WaitFor([&] { return q.Entry("r1").has_value() && q.Entry("r2").has_value(); }, 5s));
  CHECK(WaitFor([&] { return runs.Pending() == 0; }, 2s));
}

TEST_CASE("the outbox metrics show commands waiting while queue-service is down, and none once it is back",
          "[queue][sqlite][metrics]") {
  RealQueue q;
  q.Start();
  const int port = q.port();
  q.Stop();

  Runs runs(port);
  CHECK(runs.Metric("flyte_runs_outbox_pending") == 0);
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  REQUIRE(runs.runs().CreateRun(NewRun("r2")).ok());
  // Counted at most once per poll interval (100ms here), after a pass of the dispatcher.
  CHECK(WaitFor([&] { return runs.Metric("flyte_runs_outbox_pending") == 2; }, 3s));
  CHECK(WaitFor([&] { return runs.Metric("flyte_runs_outbox_send_failures_total") >= 1; }, 3s));
  // The counter follows failures() (incremented just after it; the dispatcher keeps retrying meanwhile).
  const double counted = runs.Metric("flyte_runs_outbox_send_failures_total");
  CHECK(counted <= static_cast<double>(runs.dispatcher().failures()));

  q.Start(port);
  CHECK(WaitFor([&] { return runs.Metric("flyte_runs_outbox_pending") == 0; }, 5s));
  CHECK(runs.Pending() == 0);
}

TEST_CASE("the dispatcher is woken by the commit: the hand-off adds no polling delay", "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  Runs runs(q.port());
  REQUIRE(runs.runs().CreateRun(NewRun("warm")).ok());
  REQUIRE(WaitFor([&] { return q.Entry("warm").has_value(); }, 3s));
  std::this_thread::sleep_for(150ms);  // the dispatcher is parked in its poll wait now
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(runs.runs().CreateRun(NewRun("fast")).ok());
  REQUIRE(WaitFor([&] { return q.Entry("fast").has_value(); }, 3s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 80ms);  // the poll interval is 100ms; a wake makes it a few ms
}

TEST_CASE("AbortRun reaches the queue: a leased action gets the abort flag", "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  Runs runs(q.port());
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  REQUIRE(WaitFor([&] { return q.Entry("r1").has_value(); }, 3s));
  auto leased = q.backend().Acquire("exec-1", 1, common::Clock::System().Now(), 10s);
  REQUIRE(leased.ok());
  REQUIRE(leased->leased.size() == 1);
  const std::string lease = leased->leased[0].lease_id;

  REQUIRE(runs.runs().AbortRun(RunKey{"org", "proj", "dev", "r1"}, "user asked").ok());
  CHECK(runs.PhaseOf("r1") == Phase::kAborted);
  CHECK(WaitFor([&] { return q.Entry("r1")->abort_requested; }, 3s));
  auto hb = q.backend().Heartbeat("exec-1", {lease}, common::Clock::System().Now(), 10s);
  REQUIRE(hb.ok());
  REQUIRE(hb->renewed.size() == 1);
  CHECK(hb->renewed[0].abort_requested);
  CHECK(hb->renewed[0].abort_reason == "user asked");
  // Aborting again changes nothing and records nothing.
  REQUIRE(runs.runs().AbortRun(RunKey{"org", "proj", "dev", "r1"}, "again").ok());
  CHECK(WaitFor([&] { return runs.Pending() == 0; }, 2s));
}

TEST_CASE("a run aborted before queue-service saw it is never enqueued", "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  const int port = q.port();
  q.Stop();
  Runs runs(port);
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  REQUIRE(runs.runs().AbortRun(RunKey{"org", "proj", "dev", "r1"}, "changed my mind").ok());
  CHECK(runs.Pending() >= 1);  // the abort (the enqueue too, unless the dispatcher already saw it ABORTED)
  q.Start(port);
  CHECK(WaitFor([&] { return runs.Pending() == 0; }, 5s));
  // Normally the enqueue is dropped (the action is ABORTED); if a send was already in flight when the abort
  // committed, the abort that follows it finishes the entry. Either way nothing can be handed out.
  std::optional<queue::QueueEntry> e = q.Entry("r1");
  if (e) {
    CHECK(e->state == queue::EntryState::kDone);
    CHECK(e->abort_requested);
  }
  auto leased = q.backend().Acquire("exec-1", 10, common::Clock::System().Now(), 10s);
  REQUIRE(leased.ok());
  CHECK(leased->leased.empty());
}

TEST_CASE("QueueService.EnqueueAction on runs-service records the child and forwards it", "[queue][sqlite][api]") {
  RealQueue q;
  q.Start();
  Runs runs(q.port());
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  auto stub = runs.QueueStub();

  wf::EnqueueActionRequest req;
  auto* id = req.mutable_action_id();
  id->mutable_run()->set_org("org");
  id->mutable_run()->set_project("proj");
  id->mutable_run()->set_domain("dev");
  id->mutable_run()->set_name("r1");
  id->set_name("child-1");
  req.set_parent_action_name("a0");
  req.set_input_uri("file:///tmp/x/child-1/inputs.pb");
  req.set_run_output_base("file:///tmp/x/");
  req.set_group("g1");
  req.mutable_task()->mutable_id()->set_name("sub");
  req.mutable_task()->mutable_id()->set_version("v2");
  req.mutable_task()->mutable_spec()->set_short_name("sub_short");
  req.mutable_task()->mutable_spec()->mutable_task_template()->set_type("python");
  req.mutable_task()->mutable_cache_key()->set_value("ck");
  for (int i = 0; i < 2; ++i) {  // the same child twice is OK
    grpc::ClientContext ctx;
    wf::EnqueueActionResponse resp;
    grpc::Status s = stub->EnqueueAction(&ctx, req, &resp);
    REQUIRE(s.error_message() == "");
    REQUIRE(s.ok());
  }
  auto child = runs.store().Actions().Get(ActionKey{RunKey{"org", "proj", "dev", "r1"}, "child-1"});
  REQUIRE(child.ok());
  CHECK(child->parent == std::optional<std::string>("a0"));
  CHECK(child->group == "g1");
  CHECK(child->task_name == "sub");
  CHECK(child->short_name == "sub_short");
  CHECK(child->input_uri == "file:///tmp/x/child-1/inputs.pb");
  CHECK(child->phase == Phase::kQueued);

  REQUIRE(WaitFor([&] { return q.Entry("r1", "child-1").has_value(); }, 3s));
  wf::EnqueueActionRequest forwarded = DecodePayload(*q.Entry("r1", "child-1"));
  CHECK(forwarded.parent_action_name() == "a0");
  CHECK(forwarded.task().cache_key().value() == "ck");  // verbatim
  CHECK(forwarded.group() == "g1");

  SECTION("validation errors name the field") {
    auto call = [&](const wf::EnqueueActionRequest& r) {
      grpc::ClientContext ctx;
      wf::EnqueueActionResponse resp;
      return stub->EnqueueAction(&ctx, r, &resp);
    };
    wf::EnqueueActionRequest bad = req;
    bad.clear_parent_action_name();
    grpc::Status s = call(bad);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "parent_action_name is required");
    bad = req;
    bad.mutable_action_id()->mutable_run()->clear_project();
    s = call(bad);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "action_id.run.project is required");
    bad = req;
    bad.clear_task();
    s = call(bad);
    CHECK(s.error_message() == "one of task, trace, condition is required");
    bad = req;
    bad.set_parent_action_name("nope");
    bad.mutable_action_id()->set_name("child-2");
    s = call(bad);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  }

  SECTION("AbortQueuedAction on runs-service aborts the child in both places") {
    grpc::ClientContext ctx;
    wf::AbortQueuedActionRequest abort;
    *abort.mutable_action_id() = req.action_id();
    abort.set_reason("stop it");
    wf::AbortQueuedActionResponse resp;
    REQUIRE(stub->AbortQueuedAction(&ctx, abort, &resp).ok());
    CHECK(runs.PhaseOf("r1", "child-1") == Phase::kAborted);
    CHECK(runs.PhaseOf("r1") == Phase::kQueued);  // the parent keeps going
    // READY entries are finished at once by the queue.
    CHECK(WaitFor([&] { return q.Entry("r1", "child-1")->state == queue::EntryState::kDone; }, 3s));
  }
}

TEST_CASE("an action queue-service refuses fails with the reason instead of staying QUEUED", "[queue][sqlite]") {
  RealQueue q;
  q.Start();
  Runs runs(q.port());
  REQUIRE(runs.runs().CreateRun(NewRun("r1")).ok());
  REQUIRE(WaitFor([&] { return runs.Pending() == 0; }, 3s));
  // A child whose forwarded request carries no task/trace/condition spec: queue-service refuses it for good.
  Action child = test::MakeChild("r1", "c1", "a0");
  child.key.run = RunKey{"org", "proj", "dev", "r1"};
  flyteidl2::workflow::EnqueueActionRequest request;
  request.mutable_action_id()->mutable_run()->set_org("org");
  request.mutable_action_id()->mutable_run()->set_project("proj");
  request.mutable_action_id()->mutable_run()->set_domain("dev");
  request.mutable_action_id()->mutable_run()->set_name("r1");
  request.mutable_action_id()->set_name("c1");
  request.set_parent_action_name("a0");
  REQUIRE(runs.store()
              .Actions()
              .CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key,
                                                         "", request.SerializeAsString(), 0})
              .ok());
  runs.dispatcher().Wake();
  CHECK(WaitFor([&] { return runs.Pending() == 0; }, 3s));
  auto a = runs.store().Actions().Get(child.key);
  REQUIRE(a.ok());
  CHECK(a->phase == Phase::kFailed);
  REQUIRE(a->error.has_value());
  CHECK(a->error->code == "EnqueueRejected");
  CHECK(a->error->message.find("one of task, trace, condition is required") != std::string::npos);
}

}  // namespace
}  // namespace flyte::runs

namespace flyte::runs {
namespace {

// Records every call to queue-service; enqueue batches can be made to fail as a whole.
class RecordingQueueClient final : public QueueClient {
 public:
  absl::Status EnqueueAction(const Action& a) override {
    calls.push_back("enqueue " + Name(a.key));
    return absl::OkStatus();
  }
  absl::Status EnqueueRequest(const std::string& request) override {
    calls.push_back("enqueue " + RequestName(request));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<absl::Status>> EnqueueBatch(const std::vector<EnqueueItem>& items) override {
    std::string call = "batch";
    for (const EnqueueItem& item : items) {
      call += " " + (item.request->empty() ? Name(item.action->key) : RequestName(*item.request));
    }
    calls.push_back(call);
    if (failing_batches > 0) {
      --failing_batches;
      return absl::UnavailableError("queue-service is away");
    }
    return std::vector<absl::Status>(items.size(), absl::OkStatus());
  }
  absl::Status AbortRun(const RunKey& run, const std::string&) override {
    calls.push_back("abort-run " + run.name);
    return absl::OkStatus();
  }
  absl::Status AbortAction(const ActionKey& action, const std::string&) override {
    calls.push_back("abort-action " + Name(action));
    return absl::OkStatus();
  }

  std::vector<std::string> calls;
  int failing_batches = 0;

 private:
  static std::string Name(const ActionKey& k) { return k.run.name + "/" + k.name; }
  static std::string RequestName(const std::string& request) {
    wf::EnqueueActionRequest r;
    REQUIRE(r.ParseFromString(request));
    return r.action_id().run().name() + "/" + r.action_id().name();
  }
};

// A store with the dispatcher driven by hand (RunOnce) on a fake clock.
struct DispatcherHarness {
  DispatcherHarness() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    QueueDispatcherOptions o;
    o.min_backoff = 1000ms;
    dispatcher = std::make_unique<QueueDispatcher>(*store, client, clock, o);
  }
  void CreateRun(const std::string& run) {
    Action root = test::MakeRun(run);
    REQUIRE(store->Actions()
                .CreateRunAndRecord(root, QueueCommand{0, QueueCommandKind::kEnqueue, root.key, "", "", 0})
                .ok());
  }
  void CreateChild(const std::string& run, const std::string& name) {
    Action child = test::MakeChild(run, name, kRootActionName);
    wf::EnqueueActionRequest request;
    request.mutable_action_id()->mutable_run()->set_name(run);
    request.mutable_action_id()->set_name(name);
    REQUIRE(store->Actions()
                .CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "",
                                                           request.SerializeAsString(), 0})
                .ok());
  }
  void AbortRun(const std::string& run) {
    const ActionKey root = test::KeyOf(run);
    REQUIRE(store->Actions()
                .AbortAndRecord(root, "stop", clock.Now(),
                                QueueCommand{0, QueueCommandKind::kAbortRun, root, "stop", "", 0})
                .ok());
  }
  int64_t Pending() { return store->Outbox()->Count().value(); }

  testing::TempSqlite db;
  common::FakeClock clock{test::At(10)};
  RecordingQueueClient client;
  std::unique_ptr<Store> store;
  std::unique_ptr<QueueDispatcher> dispatcher;
};

TEST_CASE("consecutive enqueues go out in one call, aborts keep their place between them", "[queue][sqlite]") {
  DispatcherHarness h;
  h.CreateRun("r1");
  h.CreateChild("r1", "c1");
  h.CreateRun("r2");
  h.AbortRun("r2");  // recorded after r2's enqueue, and r2 is ABORTED before anything was sent
  h.CreateRun("r3");
  h.CreateChild("r1", "c2");
  REQUIRE(h.dispatcher->RunOnce().ok());
  // r2's enqueue is dropped (its action already ended); its abort still goes out, after r1's enqueues and before
  // r3's.
  CHECK(h.client.calls == std::vector<std::string>{"batch r1/a0 r1/c1", "abort-run r2", "batch r3/a0 r1/c2"});
  CHECK(h.dispatcher->sent() == 5);
  CHECK(h.dispatcher->dropped() == 1);
  CHECK(h.Pending() == 0);
}

TEST_CASE("a failed batch call keeps the batch and everything after it, in order", "[queue][sqlite]") {
  DispatcherHarness h;
  h.CreateRun("r1");
  h.CreateRun("r2");
  h.AbortRun("r1");
  h.CreateRun("r3");
  h.client.failing_batches = 1;
  CHECK(h.dispatcher->RunOnce().code() == absl::StatusCode::kUnavailable);
  // Nothing after the failed call was sent: the abort must not overtake the enqueues.
  CHECK(h.client.calls == std::vector<std::string>{"batch r2/a0"});
  CHECK(h.dispatcher->failures() == 1);
  CHECK(h.Pending() == 3);  // r1's enqueue was dropped (aborted), the rest wait for the retry

  h.client.calls.clear();
  h.clock.Advance(2s);  // past the backoff
  REQUIRE(h.dispatcher->RunOnce().ok());
  CHECK(h.client.calls == std::vector<std::string>{"batch r2/a0", "abort-run r1", "batch r3/a0"});
  CHECK(h.Pending() == 0);
}

TEST_CASE("against a queue-service without the batch API, enqueues fall back to EnqueueAction per action",
          "[queue][sqlite]") {
  // A server that serves flyteidl2's QueueService.EnqueueAction only (another implementation of the API).
  common::WorkPool pool("old-queue", 2, 100);
  rpc::Router router(&pool);
  std::mutex mu;
  std::vector<std::string> seen;
  router.Unary<wf::EnqueueActionRequest, wf::EnqueueActionResponse>(
      "flyteidl2.workflow.QueueService", "EnqueueAction",
      [&](const rpc::CallContext&, const wf::EnqueueActionRequest& req, wf::EnqueueActionResponse*) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(req.action_id().name());
        if (req.action_id().name() == "bad") return absl::InvalidArgumentError("action_id.run.project is required");
        return absl::OkStatus();
      });
  rpc::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.shutdown_grace = 200ms;
  rpc::Server server(&router, so);
  REQUIRE(server.Start().ok());
  GrpcQueueClient client(MakeQueueChannel("127.0.0.1:" + std::to_string(server.port()), 200ms), 2s);

  Action root = test::MakeRun("r1");
  wf::EnqueueActionRequest bad;
  bad.mutable_action_id()->set_name("bad");
  wf::EnqueueActionRequest child;
  child.mutable_action_id()->set_name("c1");
  const std::string bad_bytes = bad.SerializeAsString(), child_bytes = child.SerializeAsString(), none;
  for (int round = 0; round < 2; ++round) {  // the second round knows at once that there is no batch API
    auto out = client.EnqueueBatch({EnqueueItem{&root, &none}, EnqueueItem{nullptr, &bad_bytes},
                                    EnqueueItem{nullptr, &child_bytes}});
    REQUIRE(out.ok());
    REQUIRE(out->size() == 3);
    CHECK((*out)[0].ok());
    CHECK((*out)[1].code() == absl::StatusCode::kInvalidArgument);
    CHECK((*out)[1].message() == "action_id.run.project is required");
    CHECK((*out)[2].ok());
  }
  std::lock_guard<std::mutex> lock(mu);
  CHECK(seen == std::vector<std::string>{"a0", "bad", "c1", "a0", "bad", "c1"});
  server.Shutdown();
  pool.Shutdown();
}

TEST_CASE("runs.queue config: defaults, keys, every problem reported", "[queue][unit]") {
  auto defaults = ParseConfig("");
  REQUIRE(defaults.ok());
  CHECK(defaults->queue.endpoint == "localhost:8089");
  CHECK(defaults->queue.max_backoff == 5000ms);
  auto set = ParseConfig("runs:\n  queue:\n    endpoint: \"\"\n    minBackoff: 10ms\n    maxBackoff: 2s\n");
  REQUIRE(set.ok());
  CHECK(set->queue.endpoint.empty());
  CHECK(set->queue.min_backoff == 10ms);
  CHECK(set->queue.max_backoff == 2000ms);
  auto bad = ParseConfig("runs:\n  queue:\n    endpont: x\n    minBackoff: 3s\n    maxBackoff: 1s\n");
  REQUIRE_FALSE(bad.ok());
  const std::string msg(bad.status().message());
  CHECK(msg.find("runs.queue.endpont") != std::string::npos);
  CHECK(msg.find("runs.queue.maxBackoff") != std::string::npos);
}

}  // namespace
}  // namespace flyte::runs
