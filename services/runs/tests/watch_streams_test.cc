// Watch streams through the registered Router methods, with a recording RawServerStream standing in for the
// transport (bounded backlog, finished with RESOURCE_EXHAUSTED on overflow, like the real one).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "flyteidl2/task/task_definition.pb.h"
#include "flyteidl2/workflow/state_service.grpc.pb.h"
#include "flyte/rpc/server.h"
#include <grpcpp/grpcpp.h>
#include "repository/store_factory.h"

namespace flyte::runs {
namespace {

namespace wf = flyteidl2::workflow;
using namespace std::chrono_literals;

class RecordingStream : public rpc::RawServerStream {
 public:
  explicit RecordingStream(size_t backlog = 1000) : backlog_(backlog) {}

  bool Send(const google::protobuf::Message& msg) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return false;
      if (msgs_.size() < backlog_) {
        msgs_.emplace_back(msg.New());
        msgs_.back()->CopyFrom(msg);
        cv_.notify_all();
        return true;
      }
    }
    Finish(absl::ResourceExhaustedError("stream backlog full"));  // as the transport does
    return false;
  }
  void Finish(const absl::Status& status) override {
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return;
      done_ = true;
      status_ = status;
      fns.swap(on_done_);
    }
    cv_.notify_all();
    for (auto& fn : fns) fn();
  }
  void OnDone(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!done_) {
        on_done_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }
  bool done() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return msgs_.size() >= n; });
  }
  bool WaitDone(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }
  template <class T>
  std::vector<T> Messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<T> out;
    for (const auto& m : msgs_) out.push_back(static_cast<const T&>(*m));
    return out;
  }
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  const size_t backlog_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<google::protobuf::Message>> msgs_;
  std::vector<std::function<void()>> on_done_;
  bool done_ = false;
  absl::Status status_;
};

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-runs-data"};
  common::FakeClock clock;
  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  std::unique_ptr<Store> store;
  std::unique_ptr<RunsApi> api;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data.path().string();
    api = BuildRunsApi(*store, clock, options);
    api->Register(router);
  }
  ~Env() { api->Shutdown(); }

  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    const rpc::Method* m = router.Find(path);
    REQUIRE(m != nullptr);
    return m->unary(rpc::CallContext{}, req, resp);
  }
  template <class Req>
  std::shared_ptr<RecordingStream> Open(const std::string& path, const Req& req, size_t backlog = 1000) {
    const rpc::Method* m = router.Find(path);
    REQUIRE(m != nullptr);
    auto stream = std::make_shared<RecordingStream>(backlog);
    m->stream(rpc::CallContext{}, req, stream);
    return stream;
  }

  void CreateRun(const std::string& name) {
    CreateRunParams p;
    p.run = RunKey{"org", "proj", "dev", name};
    Task t;
    t.key = TaskKey{"org", "proj", "dev", "hello", "v1"};
    t.short_name = "hello";
    flyteidl2::task::TaskSpec spec;
    spec.set_short_name("hello");
    spec.mutable_task_template()->set_type("python");
    t.spec = spec.SerializeAsString();
    p.inline_task = t;
    REQUIRE(api->runs().CreateRun(p).ok());
  }
  // StateService.Put through the adapter; returns the in-band status code.
  int Put(const std::string& run, const std::string& action, const std::string& parent, const std::string& json) {
    wf::PutRequest req;
    auto* id = req.mutable_action_id();
    id->mutable_run()->set_org("org");
    id->mutable_run()->set_project("proj");
    id->mutable_run()->set_domain("dev");
    id->mutable_run()->set_name(run);
    id->set_name(action);
    if (!parent.empty()) req.set_parent_action_name(parent);
    req.set_state(json);
    wf::PutResponse resp;
    REQUIRE(Call("/flyteidl2.workflow.StateService/Put", req, &resp).ok());
    return resp.status().code();
  }
};

flyteidl2::common::ActionIdentifier ActionId(const std::string& run, const std::string& name) {
  flyteidl2::common::ActionIdentifier id;
  id.mutable_run()->set_org("org");
  id.mutable_run()->set_project("proj");
  id.mutable_run()->set_domain("dev");
  id.mutable_run()->set_name(run);
  id.set_name(name);
  return id;
}

std::string State(const std::string& phase) { return R"({"attempt":1,"phase":")" + phase + R"("})"; }

TEST_CASE("StateService.Watch sends existing children, then the sentinel, then live updates", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w1");
  REQUIRE(env.Put("w1", "c1", "a0", State("ACTION_PHASE_RUNNING")) == 0);
  REQUIRE(env.Put("w1", "c2", "a0", State("ACTION_PHASE_QUEUED")) == 0);
  env.api->changes().Flush();

  wf::WatchRequest req;
  *req.mutable_parent_action_id() = ActionId("w1", "a0");
  auto stream = env.Open("/flyteidl2.workflow.StateService/Watch", req);
  REQUIRE(stream->WaitForCount(3));
  REQUIRE(env.Put("w1", "c1", "", R"({"attempt":1,"phase":"ACTION_PHASE_SUCCEEDED","outputs":{"outputUri":"file:///o/c1"}})") == 0);
  REQUIRE(env.Put("w1", "c3", "a0", State("ACTION_PHASE_RUNNING")) == 0);
  // A grandchild is not a child of a0 and is not reported.
  REQUIRE(env.Put("w1", "g1", "c2", State("ACTION_PHASE_RUNNING")) == 0);
  REQUIRE(stream->WaitForCount(5));
  env.api->changes().Flush();

  auto msgs = stream->Messages<wf::WatchResponse>();
  REQUIRE(msgs.size() >= 5);
  std::set<std::string> snapshot{msgs[0].action_update().action_id().name(), msgs[1].action_update().action_id().name()};
  CHECK(snapshot == std::set<std::string>{"c1", "c2"});
  CHECK(msgs[2].has_control_message());
  CHECK(msgs[2].control_message().sentinel());
  CHECK(msgs[3].action_update().action_id().name() == "c1");
  CHECK(msgs[3].action_update().phase() == flyteidl2::common::ACTION_PHASE_SUCCEEDED);
  CHECK(msgs[3].action_update().output_uri() == "file:///o/c1");
  // c3 may show up as QUEUED (created) before RUNNING (its first event); it ends RUNNING; g1 never shows.
  for (size_t i = 4; i < msgs.size(); ++i) CHECK(msgs[i].action_update().action_id().name() == "c3");
  CHECK(msgs.back().action_update().phase() == flyteidl2::common::ACTION_PHASE_RUNNING);
  CHECK_FALSE(stream->done());
}

TEST_CASE("WatchActionDetails sends current details and ends when the action is terminal", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w2");
  wf::WatchActionDetailsRequest req;
  *req.mutable_action_id() = ActionId("w2", "a0");
  auto stream = env.Open("/flyteidl2.workflow.RunService/WatchActionDetails", req);
  REQUIRE(stream->WaitForCount(1));
  REQUIRE(env.Put("w2", "a0", "", State("ACTION_PHASE_RUNNING")) == 0);
  REQUIRE(stream->WaitForCount(2));
  REQUIRE(env.Put("w2", "a0", "", State("ACTION_PHASE_SUCCEEDED")) == 0);
  REQUIRE(stream->WaitDone());
  CHECK(stream->status().ok());
  auto msgs = stream->Messages<wf::WatchActionDetailsResponse>();
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].details().status().phase() == flyteidl2::common::ACTION_PHASE_QUEUED);
  CHECK(msgs[1].details().status().phase() == flyteidl2::common::ACTION_PHASE_RUNNING);
  CHECK(msgs[2].details().status().phase() == flyteidl2::common::ACTION_PHASE_SUCCEEDED);
  CHECK(msgs[2].details().has_task());

  // Watching an action that is already terminal: one message, then the end.
  auto again = env.Open("/flyteidl2.workflow.RunService/WatchActionDetails", req);
  REQUIRE(again->WaitDone());
  CHECK(again->Messages<wf::WatchActionDetailsResponse>().size() == 1);

  // Unknown action: NOT_FOUND.
  *req.mutable_action_id() = ActionId("w2", "nope");
  auto missing = env.Open("/flyteidl2.workflow.RunService/WatchActionDetails", req);
  REQUIRE(missing->WaitDone());
  CHECK(missing->status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("WatchRunDetails follows the root action and ends with the run", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w3");
  wf::WatchRunDetailsRequest req;
  req.mutable_run_id()->set_org("org");
  req.mutable_run_id()->set_project("proj");
  req.mutable_run_id()->set_domain("dev");
  req.mutable_run_id()->set_name("w3");
  auto stream = env.Open("/flyteidl2.workflow.RunService/WatchRunDetails", req);
  REQUIRE(stream->WaitForCount(1));
  wf::AbortRunRequest abort;
  *abort.mutable_run_id() = req.run_id();
  abort.set_reason("stop");
  wf::AbortRunResponse abort_resp;
  REQUIRE(env.Call("/flyteidl2.workflow.RunService/AbortRun", abort, &abort_resp).ok());
  REQUIRE(stream->WaitDone());
  auto msgs = stream->Messages<wf::WatchRunDetailsResponse>();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].details().action().status().phase() == flyteidl2::common::ACTION_PHASE_ABORTED);
  CHECK(msgs[1].details().action().abort_info().reason() == "stop");
}

TEST_CASE("a stuck watcher is dropped and never blocks Put or other watchers", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w4");
  wf::WatchRequest req;
  *req.mutable_parent_action_id() = ActionId("w4", "a0");
  auto stuck = env.Open("/flyteidl2.workflow.StateService/Watch", req, /*backlog=*/2);
  auto healthy = env.Open("/flyteidl2.workflow.StateService/Watch", req);
  REQUIRE(healthy->WaitForCount(1));  // sentinel

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(env.Put("w4", "c" + std::to_string(i), "a0", State("ACTION_PHASE_RUNNING")) == 0);
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(healthy->WaitForCount(21));
  REQUIRE(stuck->WaitDone());
  CHECK(stuck->status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(env.api->changes().snapshots() >= 1);
}

TEST_CASE("each change becomes one snapshot, whatever the number of watchers", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w5");
  REQUIRE(env.Put("w5", "c1", "a0", State("ACTION_PHASE_QUEUED")) == 0);
  env.api->changes().Flush();
  wf::WatchRequest req;
  *req.mutable_parent_action_id() = ActionId("w5", "a0");
  std::vector<std::shared_ptr<RecordingStream>> streams;
  for (int i = 0; i < 10; ++i) streams.push_back(env.Open("/flyteidl2.workflow.StateService/Watch", req));
  const uint64_t before = env.api->changes().snapshots();
  REQUIRE(env.Put("w5", "c1", "", State("ACTION_PHASE_RUNNING")) == 0);  // one committed change
  for (auto& s : streams) REQUIRE(s->WaitForCount(3));
  env.api->changes().Flush();
  CHECK(env.api->changes().snapshots() - before == 1);
}

TEST_CASE("WatchActions sends the run's actions enriched, then changes", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w6");
  REQUIRE(env.Put("w6", "c1", "a0", State("ACTION_PHASE_RUNNING")) == 0);
  REQUIRE(env.Put("w6", "c2", "a0", State("ACTION_PHASE_SUCCEEDED")) == 0);
  env.api->changes().Flush();
  wf::WatchActionsRequest req;
  *req.mutable_run_id() = ActionId("w6", "a0").run();
  auto* f = req.add_filter();
  f->set_field("phase");
  f->set_function(flyteidl2::common::Filter::VALUE_IN);
  f->add_values("ACTION_PHASE_RUNNING");
  auto stream = env.Open("/flyteidl2.workflow.RunService/WatchActions", req);
  REQUIRE(stream->WaitForCount(1));
  auto first = stream->Messages<wf::WatchActionsResponse>()[0];
  REQUIRE(first.enriched_actions_size() == 3);
  CHECK(first.enriched_actions(0).action().id().name() == "a0");  // parents first
  const auto& counts = first.enriched_actions(0).children_phase_counts();
  CHECK(counts.at(flyteidl2::common::ACTION_PHASE_RUNNING) == 1);
  CHECK(counts.at(flyteidl2::common::ACTION_PHASE_SUCCEEDED) == 1);
  for (const auto& ea : first.enriched_actions()) {
    CHECK(ea.meets_filter() == (ea.action().id().name() == "c1"));
  }
  REQUIRE(env.Put("w6", "c1", "", State("ACTION_PHASE_FAILED")) == 0);
  REQUIRE(stream->WaitForCount(2));
  auto second = stream->Messages<wf::WatchActionsResponse>()[1];
  REQUIRE(second.enriched_actions_size() == 2);  // c1 and its parent, whose counts moved
  CHECK(second.enriched_actions(0).action().id().name() == "c1");
  CHECK_FALSE(second.enriched_actions(0).meets_filter());
  CHECK(second.enriched_actions(1).children_phase_counts().at(flyteidl2::common::ACTION_PHASE_FAILED) == 1);

  // Unsupported filter: INVALID_ARGUMENT naming it.
  f->set_function(flyteidl2::common::Filter::EQUAL);
  auto bad = env.Open("/flyteidl2.workflow.RunService/WatchActions", req);
  REQUIRE(bad->WaitDone());
  CHECK(bad->status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad->status().message()).find("filter[0]") != std::string::npos);
}

TEST_CASE("WatchRuns sends recent runs then each changed run of the project", "[watch][sqlite]") {
  Env env;
  env.CreateRun("old-run");
  env.api->changes().Flush();
  wf::WatchRunsRequest req;
  req.mutable_project_id()->set_organization("org");
  req.mutable_project_id()->set_name("proj");
  req.mutable_project_id()->set_domain("dev");
  auto stream = env.Open("/flyteidl2.workflow.RunService/WatchRuns", req);
  REQUIRE(stream->WaitForCount(1));
  CHECK(stream->Messages<wf::WatchRunsResponse>()[0].runs(0).action().id().run().name() == "old-run");
  env.CreateRun("new-run");
  REQUIRE(stream->WaitForCount(2));
  CHECK(stream->Messages<wf::WatchRunsResponse>()[1].runs(0).action().id().run().name() == "new-run");
  // Child actions are not runs.
  REQUIRE(env.Put("new-run", "c1", "a0", State("ACTION_PHASE_RUNNING")) == 0);
  env.api->changes().Flush();
  CHECK(stream->Messages<wf::WatchRunsResponse>().size() == 2);
}

TEST_CASE("WatchClusterEvents sends events of the attempt and ends at terminal", "[watch][sqlite]") {
  Env env;
  env.CreateRun("w7");
  REQUIRE(env.Put("w7", "a0", "",
                  R"({"attempt":1,"phase":"ACTION_PHASE_INITIALIZING","clusterEvents":[{"message":"pulling"}]})") == 0);
  env.api->changes().Flush();
  wf::WatchClusterEventsRequest req;
  *req.mutable_id() = ActionId("w7", "a0");
  req.set_attempt(1);
  auto stream = env.Open("/flyteidl2.workflow.RunService/WatchClusterEvents", req);
  REQUIRE(stream->WaitForCount(1));
  REQUIRE(env.Put("w7", "a0", "",
                  R"({"attempt":1,"phase":"ACTION_PHASE_RUNNING","clusterEvents":[{"message":"started"}]})") == 0);
  REQUIRE(stream->WaitForCount(2));
  REQUIRE(env.Put("w7", "a0", "", State("ACTION_PHASE_SUCCEEDED")) == 0);
  REQUIRE(stream->WaitDone());
  CHECK(stream->status().ok());
  auto msgs = stream->Messages<wf::WatchClusterEventsResponse>();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].cluster_events(0).message() == "pulling");
  CHECK(msgs[1].cluster_events(0).message() == "started");
}

TEST_CASE("StateService.Watch over the real server's in-process gRPC channel", "[watch][api][sqlite]") {
  Env env;
  env.CreateRun("grpc");
  rpc::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  rpc::Server server(&env.router, options);
  REQUIRE(server.Start().ok());
  auto stub = wf::StateService::NewStub(server.InProcessChannel());

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  wf::WatchRequest req;
  *req.mutable_parent_action_id() = ActionId("grpc", "a0");
  auto reader = stub->Watch(&ctx, req);
  wf::WatchResponse msg;
  REQUIRE(reader->Read(&msg));
  CHECK(msg.control_message().sentinel());

  grpc::ClientContext put_ctx;
  wf::PutRequest put;
  *put.mutable_action_id() = ActionId("grpc", "c1");
  put.set_parent_action_name("a0");
  put.set_state(State("ACTION_PHASE_RUNNING"));
  wf::PutResponse put_resp;
  REQUIRE(stub->Put(&put_ctx, put, &put_resp).ok());
  CHECK(put_resp.status().code() == 0);
  // Creation (QUEUED) and the event (RUNNING) may arrive as one or two updates; the last one is RUNNING.
  wf::ActionUpdate last;
  while (last.phase() != flyteidl2::common::ACTION_PHASE_RUNNING && reader->Read(&msg)) last = msg.action_update();
  CHECK(last.action_id().name() == "c1");
  CHECK(last.phase() == flyteidl2::common::ACTION_PHASE_RUNNING);
  ctx.TryCancel();
  reader->Finish();
  server.Shutdown();
}

}  // namespace
}  // namespace flyte::runs
