// The trigger scheduler and the trigger use cases on a real temp SQLite file with a fake clock: tick math through
// deploy, fire and record, the catch-up policy, deactivation, one scheduler at a time among two replicas on one
// database file, a repeated fire creating nothing; and what a fired run carries (ProtoTriggerCodec).
#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "api/trigger_codec.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/workflow/run_definition.pb.h"
#include "repository/store_factory.h"
#include "service/trigger_scheduler.h"

namespace flyte::runs {
namespace {

using absl::StatusCode;
using std::chrono::minutes;
using std::chrono::seconds;
namespace tk = flyteidl2::task;

const TaskKey kTask{"org", "proj", "dev", "report", "v1"};

// One runs-service replica: its own Store and use cases on the shared database file.
struct Replica {
  std::unique_ptr<Store> store;
  std::unique_ptr<RunsApi> api;
  std::unique_ptr<TriggerScheduler> scheduler;

  Replica(const db::DatabaseConfig& db, const std::string& data, common::Clock& clock, const std::string& holder) {
    auto s = OpenStore(db);
    REQUIRE(s.ok());
    store = std::move(*s);
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data;
    api = BuildRunsApi(*store, clock, options);
    TriggerSchedulerOptions so;
    so.holder = holder;
    so.lease_duration = seconds(15);
    scheduler = std::make_unique<TriggerScheduler>(store->Triggers(), api->runs(), api->trigger_codec(), clock, so);
  }
  ~Replica() {
    scheduler.reset();
    api->Shutdown();
  }
  SchedulerPass Pass() {
    absl::StatusOr<SchedulerPass> p = scheduler->RunOnce();
    REQUIRE(p.ok());
    return *p;
  }
  std::vector<std::string> RunNames() {
    ListQuery q;
    q.org = "org";
    q.limit = 200;
    absl::StatusOr<Page<Action>> page = api->runs().ListRuns(q);
    REQUIRE(page.ok());
    std::vector<std::string> out;
    for (const Action& a : page->items) out.push_back(a.key.run.name);
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-trigger-data"};
  common::FakeClock clock;
  Replica a{db.database_config(), data.path().string(), clock, "A"};

  Env() {
    Task t;
    t.key = kTask;
    t.spec = "spec";
    t.short_name = "report";
    REQUIRE(a.api->tasks().DeployTask(t).ok());
  }
};

tk::TaskTrigger EveryMinute(const std::string& name, bool active = true) {
  tk::TaskTrigger t;
  t.set_name(name);
  t.mutable_spec()->set_active(active);
  auto* lit = t.mutable_spec()->mutable_inputs()->add_literals();
  lit->set_name("n");
  lit->mutable_value()->mutable_scalar()->mutable_primitive()->set_integer(7);
  t.mutable_automation_spec()->set_type(tk::TYPE_SCHEDULE);
  auto* sched = t.mutable_automation_spec()->mutable_schedule();
  sched->mutable_rate()->set_value(1);
  sched->mutable_rate()->set_unit(tk::FIXED_RATE_UNIT_MINUTE);
  sched->set_kickoff_time_input_arg("when");
  return t;
}

Trigger Domain(const tk::TaskTrigger& t) {
  absl::StatusOr<Trigger> d = api::ToTrigger(t, kTask, "triggers[0]");
  REQUIRE(d.ok());
  return *d;
}

}  // namespace

TEST_CASE("a fixed-rate trigger fires once per tick and after missed ticks only the latest",
          "[service][sqlite]") {
  Env env;
  const common::TimePoint t0 = env.clock.Now();
  REQUIRE(env.a.api->triggers().Deploy({Domain(EveryMinute("every-minute"))}).ok());
  const TriggerKey key{"org", "proj", "dev", "report", "every-minute"};
  CHECK(env.a.store->Triggers().Get(key)->next_fire_at == t0 + minutes(1));

  SchedulerPass idle = env.a.Pass();
  CHECK(idle.leader);
  CHECK(idle.fired == 0);
  env.clock.Advance(seconds(60));
  SchedulerPass first = env.a.Pass();
  CHECK(first.fired == 1);
  CHECK(env.a.Pass().fired == 0);  // the same tick again: nothing
  CHECK(env.a.RunNames() == std::vector<std::string>{TriggerRunName(key, t0 + minutes(1))});
  absl::StatusOr<Trigger> after = env.a.store->Triggers().Get(key);
  CHECK(after->triggered_at == t0 + minutes(1));
  CHECK(after->next_fire_at == t0 + minutes(2));

  // Down for ten minutes (and a half): one run for the latest missed tick (t0 + 11m), the 9 before it skipped.
  env.clock.Advance(seconds(630));
  SchedulerPass catch_up = env.a.Pass();
  CHECK(catch_up.fired == 1);
  CHECK(catch_up.skipped == 9);
  CHECK(env.a.RunNames().size() == 2);
  CHECK(env.a.store->Triggers().Get(key)->next_fire_at == t0 + minutes(12));
  absl::StatusOr<ActionWithAttempts> run = env.a.api->runs().GetRunDetails(
      RunKey{"org", "proj", "dev", TriggerRunName(key, t0 + minutes(11))});
  REQUIRE(run.ok());
  CHECK(run->action.task_name == "report");
}

TEST_CASE("deactivated triggers do not fire and activation schedules from now", "[service][sqlite]") {
  Env env;
  const common::TimePoint t0 = env.clock.Now();
  REQUIRE(env.a.api->triggers().Deploy({Domain(EveryMinute("on")), Domain(EveryMinute("off", false))}).ok());
  const TriggerKey on{"org", "proj", "dev", "report", "on"};
  const TriggerKey off{"org", "proj", "dev", "report", "off"};
  CHECK_FALSE(env.a.store->Triggers().Get(off)->next_fire_at.has_value());
  REQUIRE(env.a.api->triggers().SetActive({on}, false).ok());
  env.clock.Advance(minutes(5));
  CHECK(env.a.Pass().fired == 0);
  CHECK(env.a.RunNames().empty());

  REQUIRE(env.a.api->triggers().SetActive({off}, true).ok());
  CHECK(env.a.store->Triggers().Get(off)->next_fire_at == t0 + minutes(6));
  env.clock.Advance(minutes(1));
  CHECK(env.a.Pass().fired == 1);
  CHECK(env.a.api->triggers().SetActive({TriggerKey{"org", "proj", "dev", "report", "nope"}}, true).code() ==
        StatusCode::kNotFound);
}

TEST_CASE("two replicas on one database file: one scheduler at a time, a repeated tick creates no second run",
          "[service][sqlite]") {
  Env env;
  Replica b(env.db.database_config(), env.data.path().string(), env.clock, "B");
  const common::TimePoint t0 = env.clock.Now();
  REQUIRE(env.a.api->triggers().Deploy({Domain(EveryMinute("every-minute"))}).ok());
  const TriggerKey key{"org", "proj", "dev", "report", "every-minute"};

  env.clock.Advance(seconds(60));
  SchedulerPass by_a = env.a.Pass();
  SchedulerPass by_b = b.Pass();
  CHECK(by_a.leader);
  CHECK(by_a.fired == 1);
  CHECK_FALSE(by_b.leader);
  CHECK(by_b.fired == 0);

  // A stops renewing (crashed); once its lease has expired B takes over. A fire of a tick already fired (a
  // scheduler that lost its lease mid-pass, or crashed before recording the tick) is ALREADY_EXISTS, not a run.
  REQUIRE(env.a.store->Triggers().SetActive(key, true, t0 + minutes(1), env.clock.Now()).ok());
  env.clock.Advance(seconds(10));
  CHECK_FALSE(b.Pass().leader);
  env.clock.Advance(seconds(6));
  SchedulerPass takeover = b.Pass();
  CHECK(takeover.leader);
  CHECK(takeover.duplicates == 1);
  CHECK(takeover.fired == 0);
  CHECK(b.RunNames().size() == 1);
  CHECK_FALSE(env.a.Pass().leader);
  env.clock.Advance(seconds(60));
  CHECK(b.Pass().fired == 1);
  CHECK(b.RunNames().size() == 2);
}

TEST_CASE("a fired run carries the trigger's inputs, the kickoff time, run_start_time and the trigger",
          "[service][unit]") {
  api::ProtoTriggerCodec codec;
  Trigger t = Domain(EveryMinute("every-minute"));
  t.revision = 3;
  const common::TimePoint tick = common::TimePoint(seconds(1'767'225'600));
  absl::StatusOr<CreateRunParams> p = codec.RunFor(t, tick);
  REQUIRE(p.ok());
  CHECK(p->task_id == kTask);
  tk::Inputs inputs;
  REQUIRE(inputs.ParseFromString(*p->inputs));
  REQUIRE(inputs.literals_size() == 2);
  CHECK(inputs.literals(0).value().scalar().primitive().integer() == 7);
  CHECK(inputs.literals(1).name() == "when");
  CHECK(inputs.literals(1).value().scalar().primitive().datetime().seconds() == 1'767'225'600);
  tk::RunSpec spec;
  REQUIRE(spec.ParseFromString(p->run_spec));
  CHECK(spec.run_start_time().seconds() == 1'767'225'600);
  flyteidl2::workflow::ActionMetadata m;
  REQUIRE(m.ParseFromString(p->metadata));
  CHECK(m.source() == flyteidl2::workflow::RUN_SOURCE_SCHEDULE_TRIGGER);
  CHECK(m.trigger_name() == "every-minute");
  CHECK(m.trigger_id().name().task_name() == "report");
  CHECK(m.trigger_id().revision() == 3);
  CHECK(m.trigger_type().schedule().rate().value() == 1);
}

TEST_CASE("bad schedules are refused at deploy naming the field", "[service][unit]") {
  auto error = [](const tk::TaskTrigger& t) {
    absl::StatusOr<Trigger> d = api::ToTrigger(t, kTask, "triggers[0]");
    REQUIRE(d.status().code() == StatusCode::kInvalidArgument);
    return std::string(d.status().message());
  };
  tk::TaskTrigger cron = EveryMinute("c");
  cron.mutable_automation_spec()->mutable_schedule()->mutable_cron()->set_expression("61 * * * *");
  CHECK(error(cron) == "triggers[0].automation_spec.schedule.cron.expression: minute field \"61\" is out of range 0-59");
  cron.mutable_automation_spec()->mutable_schedule()->mutable_cron()->set_expression("0 * * * *");
  cron.mutable_automation_spec()->mutable_schedule()->mutable_cron()->set_timezone("Europe/Paris");
  CHECK(error(cron).find("triggers[0].automation_spec.schedule.cron.timezone \"Europe/Paris\" is not supported") == 0);
  cron.mutable_automation_spec()->mutable_schedule()->mutable_cron()->set_timezone("UTC");
  cron.mutable_automation_spec()->mutable_schedule()->mutable_cron()->set_expression("0 0 31 2 *");
  CHECK(error(cron) == "triggers[0].automation_spec.schedule: the cron expression never matches a date");
  tk::TaskTrigger rate = EveryMinute("r");
  rate.mutable_automation_spec()->mutable_schedule()->mutable_rate()->set_value(0);
  CHECK(error(rate) == "triggers[0].automation_spec.schedule.rate.value must be positive");
  rate.mutable_automation_spec()->mutable_schedule()->mutable_rate()->set_value(5);
  rate.mutable_automation_spec()->mutable_schedule()->mutable_rate()->set_unit(tk::FIXED_RATE_UNIT_UNSPECIFIED);
  CHECK(error(rate).find("triggers[0].automation_spec.schedule.rate.unit") == 0);
  tk::TaskTrigger artifact = EveryMinute("a");
  artifact.mutable_automation_spec()->set_type(tk::TYPE_ARTIFACT);
  artifact.mutable_automation_spec()->mutable_artifact()->set_artifact_name("x");
  CHECK(error(artifact).find("triggers[0].automation_spec.artifact is not supported") == 0);
  tk::TaskTrigger unnamed = EveryMinute("");
  CHECK(error(unnamed) == "triggers[0].name is required");
}
}  // namespace flyte::runs
