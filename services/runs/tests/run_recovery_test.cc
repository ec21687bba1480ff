// Recovery runs (`flyte rerun --recover`) through the use cases, on SQLite and PostgreSQL: a child of a recovery
// run whose name matches an action that succeeded in the recovered run ends RECOVERED with that action's outputs and
// is never queued; everything else runs. Tags: [service][sqlite][postgres].
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/run_definition.pb.h"
#include "service/queue_dispatcher.h"
#include "support/backend.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

using absl::StatusCode;
using test::Backend;

// Never called: the dispatcher is not started; the tests count what it would send (the outbox rows).
class UnusedQueueClient final : public QueueClient {
 public:
  absl::Status EnqueueAction(const Action&) override { return absl::UnavailableError("unused"); }
  absl::Status EnqueueRequest(const std::string&) override { return absl::UnavailableError("unused"); }
  absl::Status AbortRun(const RunKey&, const std::string&) override { return absl::UnavailableError("unused"); }
  absl::Status AbortAction(const ActionKey&, const std::string&) override { return absl::UnavailableError("unused"); }
};

struct Env {
  explicit Env(const std::string& kind) : backend(kind) {
    dispatcher = std::make_unique<QueueDispatcher>(*backend.store, client, clock);
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data.path().string();
    options.queue = dispatcher.get();
    api = BuildRunsApi(*backend.store, clock, options);
  }
  ~Env() { api->Shutdown(); }

  RunUseCases& runs() { return api->runs(); }
  int64_t Queued() { return backend.store->Outbox()->Count().value(); }

  Action Run(const std::string& name, std::optional<RunRecovery> recovery = std::nullopt) {
    CreateRunParams p;
    p.run = RunKey{"testorg", "proj", "dev", name};
    Task t;
    t.key = TaskKey{"testorg", "proj", "dev", "parent", "v1"};
    t.spec = "spec";
    p.inline_task = t;
    p.inputs = std::string("inputs");
    p.recovery = std::move(recovery);
    absl::StatusOr<Action> root = runs().CreateRun(p);
    REQUIRE(root.ok());
    return *root;
  }
  absl::Status Enqueue(const std::string& run, const std::string& child) {
    Action a = test::MakeChild(run, child, kRootActionName);
    a.phase = Phase::kQueued;
    a.output_uri.clear();
    return runs().EnqueueAction(a, "request-of-" + child);
  }
  // Ends `child` of `run` in `phase` (SUCCEEDED with outputs at <run>/<child>/1).
  void End(const std::string& run, const std::string& child, Phase phase) {
    ActionEvent e = test::MakeEvent(1, phase, 5);
    if (phase == Phase::kSucceeded) e.output_uri = "file:///data/" + run + "/" + child + "/1";
    REQUIRE(api->state().Put(test::KeyOf(run, child), kRootActionName, test::MakeEvent(1, Phase::kRunning, 4)).ok());
    REQUIRE(api->state().Put(test::KeyOf(run, child), kRootActionName, e).ok());
  }
  Action Get(const std::string& run, const std::string& action) {
    absl::StatusOr<Action> a = backend.actions().Get(test::KeyOf(run, action));
    REQUIRE(a.ok());
    return *a;
  }

  Backend backend;
  testing::TempDir data{"flyte-runs-data"};
  common::FakeClock clock{test::At(100)};
  UnusedQueueClient client;
  std::unique_ptr<QueueDispatcher> dispatcher;
  std::unique_ptr<RunsApi> api;
};

// Run "src": children c1, c2 SUCCEEDED, c3 FAILED, c4 still RUNNING when the run failed; then the run ends FAILED.
void MakeSourceRun(Env& env) {
  env.Run("src");
  for (const char* c : {"c1", "c2", "c3", "c4"}) REQUIRE(env.Enqueue("src", c).ok());
  env.End("src", "c1", Phase::kSucceeded);
  env.End("src", "c2", Phase::kSucceeded);
  env.End("src", "c3", Phase::kFailed);
  REQUIRE(env.api->state().Put(test::KeyOf("src", "c4"), kRootActionName, test::MakeEvent(1, Phase::kRunning, 4)).ok());
  REQUIRE(env.api->state().Put(test::KeyOf("src"), std::nullopt, test::MakeEvent(1, Phase::kRunning, 2)).ok());
  REQUIRE(env.api->state().Put(test::KeyOf("src"), std::nullopt, test::MakeEvent(1, Phase::kFailed, 6)).ok());
}

TEST_CASE("a recovery run takes over succeeded children and queues only the rest", "[service][sqlite][postgres]") {
  Env env(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  MakeSourceRun(env);
  const int64_t before = env.Queued();

  env.Run("rec", RunRecovery{"src", {}});
  CHECK(env.Queued() == before + 1);  // the root always runs
  CHECK(env.Get("rec", "a0").phase == Phase::kQueued);
  CHECK(env.backend.actions().GetRecovery(RunKey{"testorg", "proj", "dev", "rec"}).value() ==
        RunRecovery{"src", {}});

  for (const char* c : {"c1", "c2", "c3", "c4", "c5"}) REQUIRE(env.Enqueue("rec", c).ok());
  for (const char* c : {"c1", "c2"}) {
    Action a = env.Get("rec", c);
    CHECK(a.phase == Phase::kRecovered);
    CHECK(a.output_uri == std::string("file:///data/src/") + c + "/1");  // the source's outputs, as they are
    CHECK(a.attempts == 0);
    CHECK(a.ended_at == test::At(100));
    flyteidl2::workflow::ActionMetadata provenance;  // shown as ActionMetadata.recovered_from
    REQUIRE(provenance.ParseFromString(a.metadata));
    CHECK(provenance.recovered_from().run().name() == "src");
    CHECK(provenance.recovered_from().name() == c);
  }
  for (const char* c : {"c3", "c4", "c5"}) CHECK(env.Get("rec", c).phase == Phase::kQueued);
  CHECK(env.Queued() == before + 1 + 3);  // c3 (failed), c4 (never ended), c5 (never ran) are queued; c1, c2 not

  // The same child enqueued again (a task retrying its call) is fine and changes nothing.
  REQUIRE(env.Enqueue("rec", "c1").ok());
  CHECK(env.Queued() == before + 4);

  // A recovery of the recovery run takes over RECOVERED children too, with the outputs of the run that made them.
  env.End("rec", "c3", Phase::kSucceeded);
  REQUIRE(env.api->state().Put(test::KeyOf("rec"), std::nullopt, test::MakeEvent(1, Phase::kFailed, 7)).ok());
  env.Run("rec2", RunRecovery{"rec", {}});
  for (const char* c : {"c1", "c3"}) REQUIRE(env.Enqueue("rec2", c).ok());
  CHECK(env.Get("rec2", "c1").phase == Phase::kRecovered);
  CHECK(env.Get("rec2", "c1").output_uri == "file:///data/src/c1/1");
  CHECK(env.Get("rec2", "c3").phase == Phase::kRecovered);
  CHECK(env.Get("rec2", "c3").output_uri == "file:///data/rec/c3/1");
}

TEST_CASE("a recovery run re-runs the actions it is told to force", "[service][sqlite][postgres]") {
  Env env(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  MakeSourceRun(env);
  env.Run("rec", RunRecovery{"src", {"c2", "no-such-action"}});
  const int64_t before = env.Queued();
  REQUIRE(env.Enqueue("rec", "c1").ok());
  REQUIRE(env.Enqueue("rec", "c2").ok());
  CHECK(env.Get("rec", "c1").phase == Phase::kRecovered);
  CHECK(env.Get("rec", "c2").phase == Phase::kQueued);
  CHECK(env.Queued() == before + 1);
}

TEST_CASE("an ordinary run recovers nothing, even with a same-named child elsewhere", "[service][sqlite][postgres]") {
  Env env(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  MakeSourceRun(env);
  env.Run("plain");
  REQUIRE(env.Enqueue("plain", "c1").ok());
  CHECK(env.Get("plain", "c1").phase == Phase::kQueued);
  CHECK_FALSE(env.backend.actions().GetRecovery(RunKey{"testorg", "proj", "dev", "plain"}).value().has_value());
}

TEST_CASE("a child enqueued before its run exists does not keep the run from recovering later",
          "[service][sqlite][postgres]") {
  Env env(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  MakeSourceRun(env);
  CHECK(env.Enqueue("late", "c1").code() == StatusCode::kNotFound);
  env.Run("late", RunRecovery{"src", {}});
  REQUIRE(env.Enqueue("late", "c1").ok());
  CHECK(env.Get("late", "c1").phase == Phase::kRecovered);
}

TEST_CASE("a recovery of a missing, running or the same run is refused and creates nothing",
          "[service][sqlite][postgres]") {
  Env env(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  CreateRunParams p;
  p.run = RunKey{"testorg", "proj", "dev", "rec"};
  Task t;
  t.key = TaskKey{"testorg", "proj", "dev", "parent", "v1"};
  p.inline_task = t;
  p.inputs = std::string("inputs");

  p.recovery = RunRecovery{"nosuchrun", {}};
  absl::Status s = env.runs().CreateRun(p).status();
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.message().find("nosuchrun") != std::string::npos);

  env.Run("live");  // QUEUED
  p.recovery = RunRecovery{"live", {}};
  s = env.runs().CreateRun(p).status();
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message().find("recover it once it has ended") != std::string::npos);

  p.recovery = RunRecovery{"rec", {}};
  CHECK(env.runs().CreateRun(p).status().code() == StatusCode::kInvalidArgument);
  CHECK(env.backend.actions().Get(test::KeyOf("rec")).status().code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace flyte::runs
