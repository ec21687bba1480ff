// queue-service as clients see it: the real QueueService (setup.cc) on 127.0.0.1 port 0, typed gRPC stubs, plain
// HTTP/1.1 Connect calls and the health/metrics endpoints; restart on the same SQLite file; two replicas sharing one
// PostgreSQL database.
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "flyte/internal/queue/v1/enqueue_batch_service.grpc.pb.h"
#include "flyte/internal/queue/v1/lease_service.grpc.pb.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "setup.h"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;
namespace wf = flyteidl2::workflow;
namespace pb = flyte::internal::queue::v1;
using flyte::queue::Config;
using flyte::queue::QueueService;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct HttpResult {
  int status = 0;
  std::string body;
};

HttpResult Http(int port, http::verb verb, const std::string& target, const std::string& json = "") {
  net::io_context io;
  beast::tcp_stream s(io);
  s.expires_after(seconds(10));
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (verb == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.set("connect-protocol-version", "1");
    req.body() = json;
  }
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

Config TestConfig(const flyte::db::DatabaseConfig& database) {
  Config c;
  c.server.host = "127.0.0.1";
  c.server.port = 0;
  c.database = database;
  c.lease_duration = seconds(2);
  c.poll_interval = milliseconds(100);
  c.maintenance_interval = milliseconds(100);
  c.worker_threads = 4;
  c.max_waiting_acquires = 8;
  return c;
}

std::unique_ptr<QueueService> StartService(const Config& config) {
  auto created = QueueService::Create(config);
  REQUIRE(created.ok());
  REQUIRE((*created)->Start().ok());
  REQUIRE((*created)->port() > 0);
  return std::move(*created);
}

struct Client {
  explicit Client(int port) {
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    queue = wf::QueueService::NewStub(channel);
    leases = pb::LeaseService::NewStub(channel);
    batch = pb::EnqueueBatchService::NewStub(channel);
  }
  grpc::Status Enqueue(const wf::EnqueueActionRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    wf::EnqueueActionResponse resp;
    return queue->EnqueueAction(&ctx, req, &resp);
  }
  grpc::Status Acquire(const std::string& executor, uint32_t max, uint32_t wait_ms, pb::AcquireResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    pb::AcquireRequest req;
    req.set_executor_id(executor);
    req.set_max_leases(max);
    req.set_wait_ms(wait_ms);
    return leases->Acquire(&ctx, req, resp);
  }
  grpc::Status Heartbeat(const std::string& executor, const std::vector<std::string>& ids,
                         pb::HeartbeatResponse* resp) {
    grpc::ClientContext ctx;
    pb::HeartbeatRequest req;
    req.set_executor_id(executor);
    for (const auto& id : ids) req.add_lease_ids(id);
    return leases->Heartbeat(&ctx, req, resp);
  }
  grpc::Status Complete(const std::string& executor, const std::string& lease_id) {
    grpc::ClientContext ctx;
    pb::CompleteRequest req;
    req.set_executor_id(executor);
    req.set_lease_id(lease_id);
    pb::CompleteResponse resp;
    return leases->Complete(&ctx, req, &resp);
  }
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<wf::QueueService::Stub> queue;
  std::unique_ptr<pb::LeaseService::Stub> leases;
  std::unique_ptr<pb::EnqueueBatchService::Stub> batch;
};

wf::EnqueueActionRequest Request(const std::string& action, const std::string& run = "r1") {
  wf::EnqueueActionRequest req;
  auto* id = req.mutable_action_id();
  id->mutable_run()->set_org("testorg");
  id->mutable_run()->set_project("testproject");
  id->mutable_run()->set_domain("development");
  id->mutable_run()->set_name(run);
  id->set_name(action);
  req.set_input_uri("file:///tmp/in/" + action);
  req.set_run_output_base("file:///tmp/out");
  req.mutable_task();  // a task spec (empty is enough for the queue)
  return req;
}

}  // namespace

TEST_CASE("enqueue, acquire, heartbeat and complete over gRPC", "[api][sqlite]") {
  flyte::testing::TempSqlite db;
  auto svc = StartService(TestConfig(db.database_config()));
  Client c(svc->port());

  wf::EnqueueActionRequest req = Request("a0");
  req.set_parent_action_name("root");
  REQUIRE(c.Enqueue(req).ok());
  REQUIRE(c.Enqueue(req).ok());  // idempotent

  pb::AcquireResponse got;
  REQUIRE(c.Acquire("exec-1", 10, 0, &got).ok());
  REQUIRE(got.leases_size() == 1);
  const pb::Lease& lease = got.leases(0);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(lease.action(), req));
  CHECK(lease.delivery() == 1);
  CHECK_FALSE(lease.abort_requested());
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(lease.expires_at_unix_ms() > now_ms);
  CHECK(lease.expires_at_unix_ms() <= now_ms + 2000);

  pb::HeartbeatResponse hb;
  REQUIRE(c.Heartbeat("exec-1", {lease.lease_id(), "gone"}, &hb).ok());
  REQUIRE(hb.renewed_size() == 1);
  CHECK(hb.renewed(0).lease_id() == lease.lease_id());
  REQUIRE(hb.lost_lease_ids_size() == 1);
  CHECK(hb.lost_lease_ids(0) == "gone");

  grpc::Status stolen = c.Complete("exec-2", lease.lease_id());
  CHECK(stolen.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(c.Complete("exec-1", lease.lease_id()).ok());

  // Validation errors name the field.
  wf::EnqueueActionRequest bad = Request("a1");
  bad.mutable_action_id()->mutable_run()->clear_project();
  grpc::Status s = c.Enqueue(bad);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "action_id.run.project is required");
  bad = Request("a1");
  bad.clear_task();
  CHECK(c.Enqueue(bad).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // Aborting an unknown action is NOT_FOUND; an unknown run is fine.
  grpc::ClientContext ctx;
  wf::AbortQueuedActionRequest abort;
  *abort.mutable_action_id() = Request("zz").action_id();
  wf::AbortQueuedActionResponse abort_resp;
  CHECK(c.queue->AbortQueuedAction(&ctx, abort, &abort_resp).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("batched enqueue and complete over gRPC answer each item", "[api][sqlite]") {
  flyte::testing::TempSqlite db;
  auto svc = StartService(TestConfig(db.database_config()));
  Client c(svc->port());

  pb::EnqueueActionsRequest enqueue;
  *enqueue.add_actions() = Request("a1");
  wf::EnqueueActionRequest bad = Request("a2");
  bad.clear_task();
  *enqueue.add_actions() = bad;
  *enqueue.add_actions() = Request("a3");
  *enqueue.add_actions() = Request("a1");  // idempotent, as EnqueueAction
  pb::EnqueueActionsResponse enqueued;
  {
    grpc::ClientContext ctx;
    REQUIRE(c.batch->EnqueueActions(&ctx, enqueue, &enqueued).ok());
  }
  REQUIRE(enqueued.statuses_size() == 4);
  CHECK(enqueued.statuses(0).code() == 0);
  CHECK(enqueued.statuses(1).code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(enqueued.statuses(1).message() == "actions[1]: one of task, trace, condition is required");
  CHECK(enqueued.statuses(2).code() == 0);
  CHECK(enqueued.statuses(3).code() == 0);
  {
    grpc::ClientContext ctx;
    pb::EnqueueActionsResponse empty;
    CHECK(c.batch->EnqueueActions(&ctx, pb::EnqueueActionsRequest(), &empty).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }

  pb::AcquireResponse got;
  REQUIRE(c.Acquire("exec-1", 10, 0, &got).ok());
  REQUIRE(got.leases_size() == 2);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(got.leases(0).action(), Request("a1")));
  CHECK(got.leases(1).action().action_id().name() == "a3");

  pb::CompleteBatchRequest complete;
  complete.set_executor_id("exec-1");
  for (const std::string& id : {got.leases(0).lease_id(), std::string("gone"), got.leases(1).lease_id()}) {
    pb::Completion* one = complete.add_completions();
    one->set_lease_id(id);
    one->set_final_phase(4);
  }
  pb::CompleteBatchResponse completed;
  {
    grpc::ClientContext ctx;
    REQUIRE(c.leases->CompleteBatch(&ctx, complete, &completed).ok());
  }
  REQUIRE(completed.statuses_size() == 3);
  CHECK(completed.statuses(0).code() == 0);
  CHECK(completed.statuses(1).code() == static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  CHECK(completed.statuses(2).code() == 0);
  // Completed leases are over: a single Complete of one is refused, and nothing is left to hand out.
  CHECK(c.Complete("exec-1", got.leases(0).lease_id()).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  pb::AcquireResponse none;
  REQUIRE(c.Acquire("exec-2", 10, 0, &none).ok());
  CHECK(none.leases_size() == 0);
  {
    grpc::ClientContext ctx;
    complete.clear_executor_id();
    CHECK(c.leases->CompleteBatch(&ctx, complete, &completed).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_CASE("Connect JSON calls, health and metrics on the same port", "[api][sqlite][connect]") {
  flyte::testing::TempSqlite db;
  auto svc = StartService(TestConfig(db.database_config()));
  const int port = svc->port();

  const std::string enqueue =
      R"({"actionId":{"run":{"org":"o","project":"p","domain":"d","name":"r1"},"name":"a0"},"task":{}})";
  HttpResult r = Http(port, http::verb::post, "/flyteidl2.workflow.QueueService/EnqueueAction", enqueue);
  CHECK(r.status == 200);
  CHECK(r.body == "{}");
  r = Http(port, http::verb::post, "/flyteidl2.workflow.QueueService/EnqueueAction",
           R"({"actionId":{"run":{"org":"o","project":"p","domain":"d","name":"r1"},"name":"a1"},"task":{}})");
  CHECK(r.status == 200);
  r = Http(port, http::verb::post, "/flyteidl2.workflow.QueueService/EnqueueAction", R"({"task":{}})");
  CHECK(r.status == 400);
  CHECK(r.body.find("invalid_argument") != std::string::npos);
  CHECK(r.body.find("action_id.run.project is required") != std::string::npos);

  r = Http(port, http::verb::post, "/flyte.internal.queue.v1.LeaseService/Acquire",
           R"({"executorId":"exec-1","maxLeases":1})");
  CHECK(r.status == 200);
  CHECK(r.body.find(R"("name":"a0")") != std::string::npos);

  r = Http(port, http::verb::post, "/flyteidl2.workflow.QueueService/AbortQueuedRun",
           R"({"runId":{"org":"o","project":"p","domain":"d","name":"r1"},"reason":"user"})");
  CHECK(r.status == 200);
  auto a0 = svc->backend().Get({{"o", "p", "d", "r1"}, "a0"});
  CHECK(a0->abort_requested);
  CHECK(a0->state == flyte::queue::EntryState::kLeased);
  CHECK(svc->backend().Get({{"o", "p", "d", "r1"}, "a1"})->state == flyte::queue::EntryState::kDone);

  CHECK(Http(port, http::verb::get, "/healthz").status == 200);
  CHECK(Http(port, http::verb::get, "/readyz").status == 200);
  std::this_thread::sleep_for(milliseconds(300));  // a maintenance pass refreshes the gauges
  r = Http(port, http::verb::get, "/metrics");
  CHECK(r.status == 200);
  CHECK(r.body.find("flyte_queue_depth{state=\"leased\"} 1") != std::string::npos);
  CHECK(r.body.find("flyte_queue_leases_held 1") != std::string::npos);
  CHECK(r.body.find("flyte_queue_enqueued_total 2") != std::string::npos);
  CHECK(r.body.find("flyte_queue_aborts_total{scope=\"run\"} 1") != std::string::npos);
  CHECK(r.body.find("flyte_queue_leases_expired_total 0") != std::string::npos);
}

TEST_CASE("a long-polling executor gets work as soon as it is enqueued", "[api][sqlite][longpoll]") {
  flyte::testing::TempSqlite db;
  Config config = TestConfig(db.database_config());
  config.poll_interval = seconds(30);  // only the enqueue signal can wake the waiter in time
  auto svc = StartService(config);
  Client executor(svc->port());
  Client runs(svc->port());

  auto start = std::chrono::steady_clock::now();
  auto waiting = std::async(std::launch::async, [&] {
    pb::AcquireResponse resp;
    grpc::Status s = executor.Acquire("exec-1", 1, 8000, &resp);
    return std::make_pair(s, resp);
  });
  while (svc->module().use_cases().waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  REQUIRE(runs.Enqueue(Request("a0")).ok());
  auto [status, resp] = waiting.get();
  REQUIRE(status.ok());
  REQUIRE(resp.leases_size() == 1);
  CHECK(std::chrono::steady_clock::now() - start < seconds(5));

  // Shutdown ends a waiting call promptly instead of holding the drain for its whole wait.
  auto parked = std::async(std::launch::async, [&] {
    pb::AcquireResponse r;
    return executor.Acquire("exec-1", 1, 8000, &r);
  });
  while (svc->module().use_cases().waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  start = std::chrono::steady_clock::now();
  svc->Shutdown();
  parked.get();
  CHECK(std::chrono::steady_clock::now() - start < seconds(5));
}

TEST_CASE("a dead executor's lease is handed to another executor", "[api][sqlite]") {
  flyte::testing::TempSqlite db;
  auto svc = StartService(TestConfig(db.database_config()));  // 2 s leases
  Client c(svc->port());
  REQUIRE(c.Enqueue(Request("a0")).ok());
  pb::AcquireResponse first;
  REQUIRE(c.Acquire("dies", 1, 0, &first).ok());
  REQUIRE(first.leases_size() == 1);

  pb::AcquireResponse second;
  REQUIRE(c.Acquire("survivor", 1, 5000, &second).ok());  // waits until the lease expires
  REQUIRE(second.leases_size() == 1);
  CHECK(second.leases(0).delivery() == 2);
  pb::HeartbeatResponse hb;
  REQUIRE(c.Heartbeat("dies", {first.leases(0).lease_id()}, &hb).ok());
  CHECK(hb.lost_lease_ids_size() == 1);
  CHECK(c.Complete("dies", first.leases(0).lease_id()).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(c.Complete("survivor", second.leases(0).lease_id()).ok());
}

TEST_CASE("queued entries and leases survive a restart", "[api][sqlite][restart]") {
  flyte::testing::TempSqlite db;
  Config config = TestConfig(db.database_config());
  config.lease_duration = seconds(30);
  std::string lease_id;
  {
    auto svc = StartService(config);
    Client c(svc->port());
    REQUIRE(c.Enqueue(Request("a0")).ok());
    REQUIRE(c.Enqueue(Request("a1")).ok());
    pb::AcquireResponse got;
    REQUIRE(c.Acquire("exec-1", 1, 0, &got).ok());
    lease_id = got.leases(0).lease_id();
    svc->Shutdown();
  }
  auto svc = StartService(config);
  Client c(svc->port());
  REQUIRE(c.Enqueue(Request("a0")).ok());  // still one entry
  pb::HeartbeatResponse hb;
  REQUIRE(c.Heartbeat("exec-1", {lease_id}, &hb).ok());
  CHECK(hb.renewed_size() == 1);
  pb::AcquireResponse got;
  REQUIRE(c.Acquire("exec-2", 10, 0, &got).ok());
  REQUIRE(got.leases_size() == 1);
  CHECK(got.leases(0).action().action_id().name() == "a1");
  CHECK(c.Complete("exec-1", lease_id).ok());
}

TEST_CASE("two replicas on one PostgreSQL database share the queue", "[api][postgres]") {
  const flyte::db::DatabaseConfig database = flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(8);
  auto one = StartService(TestConfig(database));
  auto two = StartService(TestConfig(database));
  Client c1(one->port());
  Client c2(two->port());
  constexpr int kEntries = 40;
  for (int i = 0; i < kEntries; ++i) {
    REQUIRE((i % 2 ? c1 : c2).Enqueue(Request("a" + std::to_string(i))).ok());
  }
  REQUIRE(c2.Enqueue(Request("a0")).ok());  // idempotent across replicas too

  std::mutex mu;
  std::map<std::string, std::string> owner;
  std::vector<std::string> duplicates;
  std::vector<std::thread> executors;
  for (int e = 0; e < 4; ++e) {
    executors.emplace_back([&, e] {
      Client& c = e % 2 ? c1 : c2;
      const std::string me = "exec-" + std::to_string(e);
      for (int round = 0; round < 20; ++round) {
        pb::AcquireResponse got;
        if (!c.Acquire(me, 3, 0, &got).ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& l : got.leases()) {
          if (!owner.emplace(l.action().action_id().name(), me).second) duplicates.push_back(l.lease_id());
        }
      }
    });
  }
  for (auto& t : executors) t.join();
  CHECK(duplicates.empty());
  CHECK(owner.size() == kEntries);
}

TEST_CASE("a cancelled long-poll leases nothing: the work goes to the next executor", "[api][sqlite][longpoll]") {
  flyte::testing::TempSqlite db;
  Config config = TestConfig(db.database_config());
  config.poll_interval = seconds(30);  // only the cancellation wake-up can end the parked call promptly
  auto svc = StartService(config);
  Client c(svc->port());

  SECTION("gRPC client cancels") {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(20));
    pb::AcquireRequest req;
    req.set_executor_id("dead-exec");
    req.set_max_leases(1);
    req.set_wait_ms(10000);
    pb::AcquireResponse resp;
    std::promise<grpc::Status> done;
    c.leases->async()->Acquire(&ctx, &req, &resp, [&](grpc::Status st) { done.set_value(st); });
    auto waiting = [&] { return svc->module().use_cases().waiting_acquires(); };
    for (int i = 0; i < 500 && waiting() == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    REQUIRE(waiting() == 1);
    ctx.TryCancel();
    CHECK(done.get_future().get().error_code() == grpc::StatusCode::CANCELLED);
    for (int i = 0; i < 200 && waiting() != 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    CHECK(waiting() == 0);  // woken by the cancellation, not by the 30 s poll
  }
  SECTION("Connect client closes its connection") {
    net::io_context io;
    beast::tcp_stream s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(svc->port())));
    http::request<http::string_body> req{http::verb::post, "/flyte.internal.queue.v1.LeaseService/Acquire", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = R"({"executorId":"dead-exec","maxLeases":1,"waitMs":10000})";
    req.prepare_payload();
    http::write(s, req);
    auto waiting = [&] { return svc->module().use_cases().waiting_acquires(); };
    for (int i = 0; i < 500 && waiting() == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    REQUIRE(waiting() == 1);
    s.close();
    for (int i = 0; i < 200 && waiting() != 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    CHECK(waiting() == 0);
  }

  const int64_t before_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  REQUIRE(c.Enqueue(Request("a0")).ok());
  std::this_thread::sleep_for(milliseconds(200));  // a parked call, if still there, would have taken it by now
  auto entry = svc->backend().Get({{"testorg", "testproject", "development", "r1"}, "a0"});
  REQUIRE(entry.ok());
  CHECK(entry->state == flyte::queue::EntryState::kReady);

  pb::AcquireResponse got;
  REQUIRE(c.Acquire("live-exec", 1, 0, &got).ok());
  REQUIRE(got.leases_size() == 1);
  CHECK(got.leases(0).delivery() == 1);
  // The lease carries the enqueue time (for the executor's enqueue-to-running histogram).
  CHECK(got.leases(0).enqueued_at_unix_ms() >= before_ms - 1000);
  CHECK(got.leases(0).enqueued_at_unix_ms() <= before_ms + 5000);
}
