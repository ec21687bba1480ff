// Attempts that are not the action's outcome, on both backends (SQLite and PostgreSQL): a failed attempt the
// executor retries (retry_follows) and trace actions the SDK records (StateUseCases::RecordTrace).
// Tags: [repository][service][sqlite][postgres].
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "flyte/common/clock.h"
#include "repository/queue_outbox.h"
#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using namespace flyte::runs::test;  // builders, Backend
using Code = absl::StatusCode;

namespace {

ActionEvent RetriedFailure(uint32_t attempt, int64_t at_s) {
  ActionEvent e = MakeEvent(attempt, Phase::kFailed, at_s);
  e.error = ErrorInfo{"exit 1", ErrorKind::kUser, "NonZeroExit"};
  e.retry_follows = true;
  return e;
}

// Run r1 on a fresh database of the chosen backend, and the use cases over it as runs-service builds them.
struct Services {
  explicit Services(const std::string& kind) : b(kind), api(BuildRunsApi(*b.store, clock, RunsApiOptions{})) {
    REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  }
  ~Services() { api->Shutdown(); }
  StateUseCases& state() { return api->state(); }
  Backend b;
  flyte::common::FakeClock clock;
  std::unique_ptr<RunsApi> api;
};

Action Trace(const std::string& run, const std::string& name, const std::string& parent) {
  Action t;
  t.key = KeyOf(run, name);
  t.parent = parent;
  t.type = ActionType::kTrace;
  t.short_name = "my_trace";
  t.input_uri = "file:///data/" + run + "/" + name + "/inputs.pb";
  return t;
}

}  // namespace

TEST_CASE("ApplyEvents: a failed attempt that a retry follows is recorded on the attempt; the action stays live",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  const ActionKey k = KeyOf("r1");
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(1, Phase::kRunning, 10)).ok());

  absl::StatusOr<Action> a = b.actions().ApplyEvent(k, RetriedFailure(1, 20));
  REQUIRE(a.ok());
  CHECK(a->phase == Phase::kRunning);
  CHECK_FALSE(a->error.has_value());
  CHECK_FALSE(a->ended_at.has_value());
  CHECK(a->attempts == 1);
  // The same attempt cannot go back; the next attempt may start from INITIALIZING without moving the action back.
  CHECK(b.actions().ApplyEvent(k, MakeEvent(1, Phase::kInitializing, 25)).status().code() ==
        Code::kFailedPrecondition);
  a = b.actions().ApplyEvent(k, MakeEvent(2, Phase::kInitializing, 30));
  REQUIRE(a.ok());
  CHECK(a->phase == Phase::kRunning);
  CHECK(a->attempts == 2);
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(2, Phase::kRunning, 40)).ok());
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(2, Phase::kSucceeded, 50)).ok());

  absl::StatusOr<ActionWithAttempts> full = b.actions().GetWithAttempts(k);
  REQUIRE(full.ok());
  CHECK(full->action.phase == Phase::kSucceeded);
  CHECK_FALSE(full->action.error.has_value());
  REQUIRE(full->attempts.size() == 2);
  CHECK(full->attempts[0].phase == Phase::kFailed);
  REQUIRE(full->attempts[0].error.has_value());
  CHECK(full->attempts[0].error->code == "NonZeroExit");
  CHECK(full->attempts[0].end_time == At(20));
  CHECK(full->attempts[1].phase == Phase::kSucceeded);
  CHECK(full->attempts[1].start_time == At(30));
}

TEST_CASE("ApplyEvents: the last attempt's failure, without a retry to follow, fails the action",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  const ActionKey k = KeyOf("r1");
  // One batch, as the executor's reporter sends them: attempt 1 fails with a retry, attempt 2 fails for good.
  ActionEvent last = MakeEvent(2, Phase::kFailed, 40);
  last.error = ErrorInfo{"exit 2", ErrorKind::kUser, "NonZeroExit"};
  std::vector<absl::StatusOr<Action>> out = b.actions().ApplyEvents(
      {KeyedEvent{k, MakeEvent(1, Phase::kRunning, 10)}, KeyedEvent{k, RetriedFailure(1, 20)},
       KeyedEvent{k, MakeEvent(2, Phase::kInitializing, 30)}, KeyedEvent{k, last}});
  REQUIRE(out.size() == 4);
  for (const auto& r : out) REQUIRE(r.ok());
  CHECK(out[1]->phase == Phase::kRunning);
  CHECK(out[2]->phase == Phase::kRunning);
  CHECK(out[3]->phase == Phase::kFailed);
  REQUIRE(out[3]->error.has_value());
  CHECK(out[3]->error->message == "exit 2");
  absl::StatusOr<ActionWithAttempts> full = b.actions().GetWithAttempts(k);
  REQUIRE(full.ok());
  REQUIRE(full->attempts.size() == 2);
  CHECK(full->attempts[0].phase == Phase::kFailed);
  CHECK(full->attempts[1].phase == Phase::kFailed);
}

TEST_CASE("StateUseCases: a parent watching a retried child never sees it FAILED", "[service][sqlite][postgres]") {
  Services s(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Backend& b = s.b;
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "c1", "a0")).ok());
  std::mutex mu;
  std::vector<Phase> seen;
  StateUseCases::WatchSink sink{[&](const Action& a) {
                                  std::lock_guard<std::mutex> l(mu);
                                  seen.push_back(a.phase);
                                  return true;
                                },
                                [] { return true; }};
  absl::StatusOr<WatchHandle> watch = s.state().Watch(KeyOf("r1"), sink);
  REQUIRE(watch.ok());

  const ActionKey c1 = KeyOf("r1", "c1");
  std::vector<StateUseCases::Report> reports;
  for (const ActionEvent& e : {MakeEvent(1, Phase::kRunning, 10), RetriedFailure(1, 20),
                               MakeEvent(2, Phase::kInitializing, 30), MakeEvent(2, Phase::kRunning, 40),
                               MakeEvent(2, Phase::kSucceeded, 50)}) {
    reports.push_back(StateUseCases::Report{c1, std::nullopt, e});
  }
  for (const absl::Status& st : s.state().PutMany(reports)) REQUIRE(st.ok());
  REQUIRE(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return !seen.empty() && seen.back() == Phase::kSucceeded;
  }));
  std::lock_guard<std::mutex> l(mu);
  for (Phase p : seen) CHECK(p != Phase::kFailed);
  absl::StatusOr<ActionWithAttempts> got = s.state().Get(c1);
  REQUIRE(got.ok());
  CHECK(got->attempts.size() == 2);
}

TEST_CASE("RecordTrace: a trace is stored as the SDK reports it and never queued", "[service][sqlite][postgres]") {
  Services s(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Backend& b = s.b;
  TraceOutcome done{Phase::kSucceeded, At(10), At(12), "file:///data/r1/t1/outputs.pb"};
  REQUIRE(s.state().RecordTrace(Trace("r1", "t1", "a0"), done).ok());

  absl::StatusOr<ActionWithAttempts> t = b.actions().GetWithAttempts(KeyOf("r1", "t1"));
  REQUIRE(t.ok());
  CHECK(t->action.type == ActionType::kTrace);
  CHECK(t->action.parent == std::optional<std::string>("a0"));
  CHECK(t->action.phase == Phase::kSucceeded);
  CHECK(t->action.output_uri == "file:///data/r1/t1/outputs.pb");
  CHECK(t->action.input_uri == "file:///data/r1/t1/inputs.pb");
  REQUIRE(t->attempts.size() == 1);
  CHECK(t->attempts[0].start_time == At(10));
  CHECK(t->attempts[0].end_time == At(12));
  REQUIRE(b.store->Outbox() != nullptr);
  absl::StatusOr<int64_t> queued = b.store->Outbox()->Count();
  REQUIRE(queued.ok());
  CHECK(*queued == 0);

  // The same record again (the SDK retrying its call) changes nothing.
  REQUIRE(s.state().RecordTrace(Trace("r1", "t1", "a0"), done).ok());
  absl::StatusOr<ActionWithAttempts> again = b.actions().GetWithAttempts(KeyOf("r1", "t1"));
  REQUIRE(again.ok());
  CHECK(again->action.version == t->action.version);
}

TEST_CASE("RecordTrace: a trace run again after its recorded failure is its next attempt",
          "[service][sqlite][postgres]") {
  Services s(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Backend& b = s.b;
  REQUIRE(s.state().RecordTrace(Trace("r1", "t1", "a0"), TraceOutcome{Phase::kFailed, At(10), At(11), ""}).ok());
  CHECK(b.actions().Get(KeyOf("r1", "t1"))->phase == Phase::kFailed);
  REQUIRE(s.state()
              .RecordTrace(Trace("r1", "t1", "a0"),
                           TraceOutcome{Phase::kSucceeded, At(20), At(21), "file:///data/r1/t1/outputs.pb"})
              .ok());
  absl::StatusOr<ActionWithAttempts> t = b.actions().GetWithAttempts(KeyOf("r1", "t1"));
  REQUIRE(t.ok());
  CHECK(t->action.phase == Phase::kSucceeded);
  CHECK_FALSE(t->action.error.has_value());
  REQUIRE(t->attempts.size() == 2);
  CHECK(t->attempts[0].phase == Phase::kFailed);
  CHECK(t->attempts[1].phase == Phase::kSucceeded);
}

TEST_CASE("RecordTrace: refusals name what is wrong", "[service][sqlite][postgres]") {
  Services s(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Backend& b = s.b;
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "c1", "a0")).ok());
  TraceOutcome done{Phase::kSucceeded, At(10), At(12), ""};
  absl::Status no_parent = s.state().RecordTrace(Trace("r1", "t1", "nosuch"), done);
  CHECK(no_parent.code() == Code::kNotFound);
  CHECK(no_parent.message().find("nosuch") != std::string::npos);
  CHECK(s.state().RecordTrace(Trace("r1", "c1", "a0"), done).code() == Code::kFailedPrecondition);
  Action orphan = Trace("r1", "t2", "a0");
  orphan.parent.reset();
  CHECK(s.state().RecordTrace(orphan, done).code() == Code::kInvalidArgument);
}
