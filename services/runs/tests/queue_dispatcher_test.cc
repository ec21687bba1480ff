// runs-service -> queue-service hand-off against the REAL queue-service library (flyte_queue_lib: use cases,
// SQLite backend, QueueService handlers) on a real port: the outbox is written with the change, survives a
// restart of runs-service, waits out a queue-service outage, and forwards aborts. Children taken in by
// runs-service's QueueService are in queue_dispatcher_enqueue_action_test.cc, batching in
// queue_dispatcher_batch_test.cc.
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "queue_dispatcher_fixture.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

// RealQueue, Runs, NewRun and DecodePayload (queue_dispatcher_fixture.h, which also brings std::chrono_literals
// and wf), WaitFor.
using namespace test;

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

}  // namespace
}  // namespace flyte::runs
