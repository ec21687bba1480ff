// The outbox dispatcher's batching, driven by hand on a fake clock with a recording queue client: consecutive
// enqueues share one call, aborts keep their place, a failed batch keeps everything after it; the fallback to
// EnqueueAction per action against a queue-service without the batch API; and the runs.queue config.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "clients/grpc_queue_client.h"
#include "config.h"
#include "flyte/common/work_pool.h"
#include "flyte/rpc/server.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "repository/store_factory.h"
#include "service/queue_dispatcher.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

using namespace std::chrono_literals;
namespace wf = flyteidl2::workflow;

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
