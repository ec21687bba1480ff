// QueueService.EnqueueAction served by runs-service against the REAL queue-service library on a real port: the
// child is recorded and forwarded verbatim, validation errors name the field, aborts reach both places, and a
// child queue-service refuses fails with the reason.
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <grpcpp/client_context.h>

#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "queue_dispatcher_fixture.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

// RealQueue, Runs, NewRun and DecodePayload (queue_dispatcher_fixture.h, which also brings std::chrono_literals
// and wf), WaitFor.
using namespace test;

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
