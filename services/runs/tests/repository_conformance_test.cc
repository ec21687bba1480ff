// The one conformance suite for the runs repositories: every case runs against SQLite (a temp file) and
// PostgreSQL (the throwaway server, a fresh database per case). Tags: [repository][sqlite][postgres]. The state
// reports' part is in state_report_conformance_test.cc; replicas hearing each other in postgres_change_feed_test.cc.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "flyte/common/clock.h"
#include "flyte/db/database.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/store_factory.h"
#include "support/backend.h"
#include "support/builders.h"
#include "support/recorder.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;
using flyte::runs::test::MakeTask;
using flyte::runs::test::Recorder;
using flyte::runs::test::WaitFor;
using Code = absl::StatusCode;
using flyte::runs::test::Backend;

namespace {

std::vector<std::string> Names(const Page<Action>& page, bool runs = false) {
  std::vector<std::string> out;
  for (const Action& a : page.items) out.push_back(runs ? a.key.run.name : a.key.name);
  return out;
}

ListQuery Scope(std::optional<std::string> run = std::nullopt) {
  ListQuery q;
  q.org = "testorg";
  q.project = "proj";
  q.domain = "dev";
  q.run_name = std::move(run);
  return q;
}

}  // namespace

TEST_CASE("runs: create, get, duplicate", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Action run = MakeRun("r1", 5);
  REQUIRE(b.actions().CreateRun(run).ok());
  absl::StatusOr<Action> got = b.actions().Get(KeyOf("r1"));
  REQUIRE(got.ok());
  CHECK(got->key == run.key);
  CHECK_FALSE(got->parent.has_value());
  CHECK(got->phase == Phase::kQueued);
  CHECK(got->created_at == At(5));
  CHECK(got->version == 1);
  CHECK(b.actions().CreateRun(run).code() == Code::kAlreadyExists);
  CHECK(b.actions().Get(KeyOf("nope")).status().code() == Code::kNotFound);
  Action bad = run;
  bad.key.name = "a1";
  CHECK(b.actions().CreateRun(bad).code() == Code::kInvalidArgument);
  CHECK(b.store->Ping().ok());
}

TEST_CASE("runs: CreateRunWith answers the row as stored and commits its extras with it, or nothing",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  QueueOutbox& outbox = *b.store->Outbox();
  Action run = MakeRun("r1", 5);
  run.created_at += std::chrono::nanoseconds(1500);  // finer than the stored microseconds
  run.updated_at = run.created_at;
  run.request_digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  ActionRepository::RunCreation with;
  with.enqueue = QueueCommand{0, QueueCommandKind::kEnqueue, run.key, "", "", 0};
  absl::StatusOr<Action> created = b.actions().CreateRunWith(run, with);
  REQUIRE(created.ok());
  absl::StatusOr<Action> got = b.actions().Get(run.key);
  REQUIRE(got.ok());
  CHECK(*created == *got);  // callers answer with it instead of reading it back
  CHECK(got->request_digest == run.request_digest);
  CHECK(created->version == 1);
  CHECK(created->created_at == At(5) + std::chrono::microseconds(1));
  CHECK(*outbox.Count() == 1);

  // A taken name records nothing and leaves the run as it was.
  Action changed = run;
  changed.input_uri = "file:///elsewhere/inputs.pb";
  CHECK(b.actions().CreateRunWith(changed, with).status().code() == Code::kAlreadyExists);
  CHECK(*outbox.Count() == 1);
  CHECK(*b.actions().Get(run.key) == *created);

  // Without extras it is a plain CreateRun.
  Action other = MakeRun("r2", 6);
  absl::StatusOr<Action> plain = b.actions().CreateRunWith(other, {});
  REQUIRE(plain.ok());
  CHECK(*plain == *b.actions().Get(other.key));
  CHECK(*outbox.Count() == 1);

  // A taken name with labels (PostgreSQL: one statement, no transaction around it) records nothing either.
  with.enqueue->key = other.key;
  with.labels = {{"team", "a"}};
  CHECK(b.actions().CreateRunWith(other, with).status().code() == Code::kAlreadyExists);
  CHECK(*outbox.Count() == 1);
}

TEST_CASE("queue outbox: batches are claimed oldest first, retried and deleted together",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  QueueOutbox& outbox = *b.store->Outbox();
  for (const char* name : {"r1", "r2", "r3"}) {
    Action run = MakeRun(name);
    REQUIRE(b.actions().CreateRunAndRecord(run, QueueCommand{0, QueueCommandKind::kEnqueue, run.key, "", "", 0}).ok());
  }
  const auto claim_for = std::chrono::microseconds(std::chrono::seconds(30));
  absl::StatusOr<std::vector<QueueCommand>> first = outbox.Claim(2, At(100), claim_for);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 2);
  CHECK((*first)[0].key.run.name == "r1");
  CHECK((*first)[1].key.run.name == "r2");
  // Both are claimed: the next claim only gets the third.
  absl::StatusOr<std::vector<QueueCommand>> second = outbox.Claim(10, At(101), claim_for);
  REQUIRE(second.ok());
  REQUIRE(second->size() == 1);
  CHECK((*second)[0].key.run.name == "r3");

  REQUIRE(outbox.Retry({(*first)[0].id, (*second)[0].id}, At(200), "queue down").ok());
  REQUIRE(outbox.Done({(*first)[1].id}).ok());
  CHECK(*outbox.Count() == 2);
  CHECK(outbox.Claim(10, At(199), claim_for)->empty());  // not due yet
  absl::StatusOr<std::vector<QueueCommand>> due = outbox.Claim(10, At(200), claim_for);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 2);
  CHECK((*due)[0].key.run.name == "r1");
  CHECK((*due)[0].attempts == 1);
  CHECK((*due)[1].key.run.name == "r3");
  REQUIRE(outbox.Done({(*due)[0].id, (*due)[1].id}).ok());
  CHECK(*outbox.Count() == 0);
  CHECK(outbox.Done({}).ok());
}

TEST_CASE("postgres: a replica takes over the outbox claims of a replica that is gone, not of a live one",
          "[repository][postgres]") {
  Backend b("postgres");
  std::unique_ptr<Store> other = b.Open();  // a second replica on the same database
  for (const char* name : {"r1", "r2"}) {
    Action run = MakeRun(name);
    REQUIRE(b.actions().CreateRunAndRecord(run, QueueCommand{0, QueueCommandKind::kEnqueue, run.key, "", "", 0}).ok());
  }
  const auto claim_for = std::chrono::microseconds(std::chrono::seconds(30));
  REQUIRE(other->Outbox()->Claim(1, At(100), claim_for)->size() == 1);  // r1, claimed by the live replica
  // Within its claim time, the first replica only gets what is unclaimed.
  absl::StatusOr<std::vector<QueueCommand>> mine = b.store->Outbox()->Claim(10, At(101), claim_for);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 1);
  CHECK((*mine)[0].key.run.name == "r2");
  REQUIRE(b.store->Outbox()->Retry({(*mine)[0].id}, At(101), "later").ok());
  // The claiming replica goes away (its connections close), still within its claim time: r1 is taken over now.
  other.reset();
  std::set<std::string> taken;  // its server processes may linger a moment after the client closed
  CHECK(WaitFor([&] {
    absl::StatusOr<std::vector<QueueCommand>> got = b.store->Outbox()->Claim(10, At(102), claim_for);
    if (got.ok()) {
      for (const QueueCommand& c : *got) taken.insert(c.key.run.name);
    }
    return taken.count("r1") > 0;
  }));
  CHECK(taken == std::set<std::string>{"r1", "r2"});
  // And a replica never takes over its own claims early: they are still in flight.
  CHECK(b.store->Outbox()->Claim(10, At(103), claim_for)->empty());
}

TEST_CASE("CreateActionAndRecord: concurrent children each get the outcome of creating them one at a time",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Recorder heard;
  heard.Attach(b.actions());
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "taken", "a0")).ok());
  // 16 threads x 25 children: most new, some with a name another thread also uses, some under a missing parent
  // or run, some re-creating "taken"; each with an outbox command and a request carrying every byte value.
  constexpr int kThreads = 16, kPerThread = 25;
  std::string request;
  for (int c = 0; c < 256; ++c) request += static_cast<char>(c);
  std::vector<std::vector<absl::Status>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Action child = MakeChild("r1", "t" + std::to_string(t) + "-" + std::to_string(i), "a0");
        if (i % 5 == 1) child.key.name = "shared-" + std::to_string(i);  // every thread tries this name
        if (i % 5 == 2) child.parent = "nobody";
        if (i % 5 == 3) child.key.run.name = "r-missing";
        if (i % 5 == 4) child.key.name = "taken";
        child.task_spec = request;
        got[t].push_back(b.actions().CreateActionAndRecord(
            child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", request, 0}));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::map<int, int> shared_ok;  // i -> threads that created shared-<i>
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      INFO("thread " << t << " child " << i);
      const absl::StatusCode code = got[t][i].code();
      switch (i % 5) {
        case 0: CHECK(code == Code::kOk); break;
        case 1:
          CHECK((code == Code::kOk || code == Code::kAlreadyExists));
          shared_ok[i] += code == Code::kOk ? 1 : 0;
          break;
        case 2:
          CHECK(code == Code::kNotFound);
          CHECK(got[t][i].message() == "parent action nobody not found");
          break;
        case 3:
          CHECK(code == Code::kNotFound);
          CHECK(got[t][i].message() == "run r-missing not found");
          break;
        default: CHECK(code == Code::kAlreadyExists);
      }
    }
  }
  for (const auto& [i, n] : shared_ok) CHECK(n == 1);  // exactly one thread created each shared name
  // Every created child is stored whole and has its command, in the outbox, once.
  const size_t created = kThreads * (kPerThread / 5) + shared_ok.size();
  absl::StatusOr<std::vector<QueueCommand>> commands =
      b.store->Outbox()->Claim(10000, At(1), std::chrono::microseconds(1000000));
  REQUIRE(commands.ok());
  CHECK(commands->size() == created);
  std::set<std::string> names;
  for (const QueueCommand& c : *commands) {
    CHECK(c.request == request);
    names.insert(c.key.name);
    absl::StatusOr<Action> a = b.actions().Get(c.key);
    REQUIRE(a.ok());
    CHECK(a->task_spec == request);
    CHECK(a->parent == std::optional<std::string>("a0"));
    CHECK(a->version == 1);
  }
  CHECK(names.size() == created);
  CHECK(WaitFor([&] { return heard.size() == created + 2; }));  // + the run and "taken"
}

TEST_CASE("actions: a child needs its run and parent", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  CHECK(b.actions().CreateAction(MakeChild("r1", "a1", "a0")).code() == Code::kNotFound);
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  CHECK(b.actions().CreateAction(MakeChild("r1", "a2", "a1")).code() == Code::kNotFound);
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a1", "a0")).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a2", "a1")).ok());
  CHECK(b.actions().CreateAction(MakeChild("r1", "a2", "a1")).code() == Code::kAlreadyExists);
  absl::StatusOr<Action> a2 = b.actions().Get(KeyOf("r1", "a2"));
  REQUIRE(a2.ok());
  CHECK(a2->parent == std::optional<std::string>("a1"));
}

TEST_CASE("actions: GetMany reads named actions of one run, skipping missing ones", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(b.actions().CreateRun(MakeRun("r2")).ok());
  std::vector<std::string> names;
  for (int i = 0; i < 450; ++i) {  // more than one statement's worth of names
    const std::string name = "c" + std::to_string(i);
    REQUIRE(b.actions().CreateAction(MakeChild("r1", name, "a0")).ok());
    if (i % 3 == 0) names.push_back(name);
  }
  names.push_back("missing");
  REQUIRE(b.actions().CreateAction(MakeChild("r2", "c0", "a0")).ok());
  absl::StatusOr<std::vector<Action>> got = b.actions().GetMany(KeyOf("r1").run, names);
  REQUIRE(got.ok());
  std::set<std::string> seen;
  for (const Action& a : *got) {
    CHECK(a.key.run.name == "r1");
    CHECK(a.parent == std::optional<std::string>("a0"));
    seen.insert(a.key.name);
  }
  CHECK(seen.size() == 150);
  CHECK(seen.count("c0") == 1);
  CHECK(seen.count("c447") == 1);
  CHECK(seen.count("missing") == 0);
  CHECK(b.actions().GetMany(KeyOf("r1").run, {})->empty());
}

TEST_CASE("actions: every field round-trips, specs byte-for-byte", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  Action run = MakeRun("r1", 7);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  run.task_spec = all_bytes;
  run.trace_spec = std::string("\0\0\0", 3);
  run.condition_spec = "\\x41'";
  run.metadata = all_bytes + all_bytes;
  run.error = ErrorInfo{"boom", ErrorKind::kUser, "E1"};
  run.abort_reason = "why";
  run.started_at = At(8);
  run.output_uri = "s3://out";
  run.attempts = 3;
  run.type = ActionType::kTrace;
  run.group = "grp";
  REQUIRE(b.actions().CreateRun(run).ok());
  absl::StatusOr<Action> got = b.actions().Get(run.key);
  REQUIRE(got.ok());
  CHECK(got->task_spec == all_bytes);
  CHECK(got->trace_spec == run.trace_spec);
  CHECK(got->condition_spec == run.condition_spec);
  CHECK(got->run_spec == run.run_spec);
  CHECK(got->metadata == run.metadata);
  REQUIRE(got->error.has_value());
  CHECK(got->error->message == "boom");
  CHECK(got->error->kind == ErrorKind::kUser);
  CHECK(got->error->code == "E1");
  CHECK(got->abort_reason == run.abort_reason);
  CHECK(got->started_at == run.started_at);
  CHECK_FALSE(got->ended_at.has_value());
  CHECK(got->attempts == 3);
  CHECK(got->type == ActionType::kTrace);
  CHECK(got->group == "grp");
  CHECK(got->task_name == "my_task");
  CHECK(got->task_version == "v1");
  CHECK(got->task_type == "python");
  CHECK(got->short_name == "my_task");
  CHECK(got->environment == "env");
  CHECK(got->input_uri == run.input_uri);
  CHECK(got->run_output_base == run.run_output_base);
  CHECK(got->output_uri == "s3://out");
  CHECK(got->updated_at == At(7));
}

TEST_CASE("Abort cascades to live descendants and skips terminal ones", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(b.actions().CreateRun(MakeRun("other")).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a1", "a0")).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a2", "a1")).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a3", "a0")).ok());
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1", "a2"), MakeEvent(1, Phase::kRunning, 5)).ok());
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1", "a3"), MakeEvent(1, Phase::kSucceeded, 5)).ok());

  absl::StatusOr<std::vector<ActionKey>> changed = b.actions().Abort(KeyOf("r1"), "user asked", At(100));
  REQUIRE(changed.ok());
  std::vector<std::string> names;
  for (const ActionKey& k : *changed) names.push_back(k.name);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a0", "a1", "a2"});
  absl::StatusOr<ActionWithAttempts> a2 = b.actions().GetWithAttempts(KeyOf("r1", "a2"));
  REQUIRE(a2.ok());
  CHECK(a2->action.phase == Phase::kAborted);
  CHECK(a2->action.abort_reason == std::optional<std::string>("user asked"));
  CHECK(a2->action.ended_at == At(100));
  REQUIRE(a2->attempts.size() == 1);
  CHECK(a2->attempts[0].phase == Phase::kAborted);
  CHECK(a2->attempts[0].transitions.back().phase == Phase::kAborted);
  CHECK(b.actions().Get(KeyOf("r1", "a3"))->phase == Phase::kSucceeded);
  CHECK(b.actions().Get(KeyOf("other"))->phase == Phase::kQueued);

  changed = b.actions().Abort(KeyOf("r1"), "again", At(200));
  REQUIRE(changed.ok());
  CHECK(changed->empty());
  CHECK(b.actions().Abort(KeyOf("missing"), "x", At(1)).status().code() == Code::kNotFound);
}

TEST_CASE("List: scope, filters, sort and paging", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  // Runs r1..r5 created at 10..50; r2 RUNNING, r3 SUCCEEDED (ended 60); r5 in another project.
  for (int i = 1; i <= 5; ++i) {
    Action r = MakeRun("r" + std::to_string(i), i * 10, i == 5 ? "proj2" : "proj");
    r.task_name = i % 2 ? "odd_task" : "Even_Task";
    r.environment = i == 1 ? "" : "env";
    REQUIRE(b.actions().CreateRun(r).ok());
  }
  REQUIRE(b.actions().ApplyEvent(KeyOf("r2"), MakeEvent(1, Phase::kRunning, 55)).ok());
  REQUIRE(b.actions().ApplyEvent(KeyOf("r3"), MakeEvent(1, Phase::kSucceeded, 60)).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a1", "a0", 11)).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a2", "a0", 12)).ok());
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "x9", "a1", 13)).ok());

  auto runs = [&](std::vector<Filter> filters, std::vector<SortKey> sort = {}) {
    ListQuery q = Scope();
    q.roots_only = true;
    q.filters = std::move(filters);
    q.sort = std::move(sort);
    absl::StatusOr<Page<Action>> p = b.actions().List(q);
    REQUIRE(p.ok());
    return Names(*p, true);
  };
  using V = std::vector<std::string>;
  CHECK(runs({}) == V{"r4", "r3", "r2", "r1"});  // default: newest first
  CHECK(runs({}, {{Field::kCreatedAt, true}}) == V{"r1", "r2", "r3", "r4"});
  CHECK(runs({{Field::kName, FilterOp::kEqual, {"r2"}}}) == V{"r2"});
  CHECK(runs({{Field::kName, FilterOp::kNotEqual, {"r2"}}}) == V{"r4", "r3", "r1"});
  CHECK(runs({{Field::kPhase, FilterOp::kEqual, {"4"}}}) == V{"r2"});
  CHECK(runs({{Field::kPhase, FilterOp::kValueIn, {"4", "5"}}}) == V{"r3", "r2"});
  CHECK(runs({{Field::kPhase, FilterOp::kValueNotIn, {"1"}}}) == V{"r3", "r2"});
  CHECK(runs({{Field::kCreatedAt, FilterOp::kGreaterThan, {std::to_string(flyte::common::ToUnixMicros(At(20)))}}}) ==
        V{"r4", "r3"});
  CHECK(runs({{Field::kCreatedAt, FilterOp::kGreaterOrEqual, {std::to_string(flyte::common::ToUnixMicros(At(20)))}}}) ==
        V{"r4", "r3", "r2"});
  CHECK(runs({{Field::kCreatedAt, FilterOp::kLessThan, {std::to_string(flyte::common::ToUnixMicros(At(20)))}}}) ==
        V{"r1"});
  CHECK(runs({{Field::kCreatedAt, FilterOp::kLessOrEqual, {std::to_string(flyte::common::ToUnixMicros(At(20)))}}}) ==
        V{"r2", "r1"});
  CHECK(runs({{Field::kTaskName, FilterOp::kContains, {"Even"}}}) == V{"r4", "r2"});
  CHECK(runs({{Field::kTaskName, FilterOp::kContains, {"even"}}}).empty());  // case-sensitive
  CHECK(runs({{Field::kTaskName, FilterOp::kContainsCaseInsensitive, {"EVEN"}}}) == V{"r4", "r2"});
  CHECK(runs({{Field::kTaskName, FilterOp::kContainsCaseInsensitive, {"%"}}}).empty());  // no wildcards
  CHECK(runs({{Field::kTaskName, FilterOp::kEndsWith, {"_task"}}}) == V{"r3", "r1"});
  CHECK(runs({{Field::kTaskName, FilterOp::kNotEndsWith, {"_task"}}}) == V{"r4", "r2"});
  CHECK(runs({{Field::kEndedAt, FilterOp::kExists, {}}}) == V{"r3"});
  CHECK(runs({{Field::kEnvironment, FilterOp::kNotExists, {}}}) == V{"r1"});
  {
    ListQuery q = Scope();
    q.filters = {{Field::kPhase, FilterOp::kEqual, {"not-a-number"}}};
    CHECK(b.actions().List(q).status().code() == Code::kInvalidArgument);
  }
  // Many values for IN.
  {
    Filter in{Field::kName, FilterOp::kValueIn, {}};
    for (int i = 0; i < 2000; ++i) in.values.push_back("n" + std::to_string(i));
    in.values.push_back("r3");
    CHECK(runs({in}) == V{"r3"});
  }
  // Sort by ended_at puts NULLs last either way.
  CHECK(runs({}, {{Field::kEndedAt, false}}).front() == "r3");
  CHECK(runs({}, {{Field::kPhase, true}, {Field::kName, false}}) == V{"r4", "r1", "r2", "r3"});

  // Project scope: empty project = any.
  {
    ListQuery q = Scope();
    q.project.clear();
    q.roots_only = true;
    CHECK(b.actions().List(q)->items.size() == 5);
    q.filters = {{Field::kProject, FilterOp::kEqual, {"proj2"}}};
    CHECK(Names(*b.actions().List(q), true) == V{"r5"});
  }
  // Paging.
  {
    ListQuery q = Scope();
    q.roots_only = true;
    q.limit = 3;
    absl::StatusOr<Page<Action>> p1 = b.actions().List(q);
    REQUIRE(p1.ok());
    CHECK(Names(*p1, true) == V{"r4", "r3", "r2"});
    REQUIRE(p1->next_offset == std::optional<uint64_t>(3));
    q.offset = *p1->next_offset;
    absl::StatusOr<Page<Action>> p2 = b.actions().List(q);
    REQUIRE(p2.ok());
    CHECK(Names(*p2, true) == V{"r1"});
    CHECK_FALSE(p2->next_offset.has_value());
  }
  // Actions of one run, and children of one parent.
  {
    ListQuery q = Scope("r1");
    q.sort = {{Field::kName, true}};
    CHECK(Names(*b.actions().List(q)) == V{"a0", "a1", "a2", "x9"});
    q.parent = "a0";
    CHECK(Names(*b.actions().List(q)) == V{"a1", "a2"});
    q.parent.reset();
    q.filters = {{Field::kParent, FilterOp::kEqual, {"a1"}}};
    CHECK(Names(*b.actions().List(q)) == V{"x9"});
    q.filters = {{Field::kParent, FilterOp::kNotExists, {}}};
    CHECK(Names(*b.actions().List(q)) == V{"a0"});
    q.filters = {{Field::kActionType, FilterOp::kEqual, {"1"}}, {Field::kShortName, FilterOp::kEqual, {"child"}}};
    CHECK(Names(*b.actions().List(q)) == V{"a1", "a2", "x9"});
  }
}

TEST_CASE("tasks: deploy, redeploy, get, latest, versions", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.tasks().Deploy(MakeTask("t1", "v1", 10)).ok());
  REQUIRE(b.tasks().Deploy(MakeTask("t1", "v2", 20)).ok());
  REQUIRE(b.tasks().Deploy(MakeTask("t2", "v1", 15)).ok());
  REQUIRE(b.tasks().Deploy(MakeTask("t3", "v1", 5, "proj2")).ok());
  Task re = MakeTask("t1", "v1", 99);
  re.spec = std::string("\0new", 4);
  re.updated_at = At(99);
  REQUIRE(b.tasks().Deploy(re).ok());

  absl::StatusOr<Task> got = b.tasks().Get(TaskKey{"testorg", "proj", "dev", "t1", "v1"});
  REQUIRE(got.ok());
  CHECK(got->spec == std::string("\0new", 4));
  CHECK(got->created_at == At(10));  // kept on redeploy
  CHECK(got->updated_at == At(99));
  CHECK(got->environment == "env-t1");
  CHECK(b.tasks().Get(TaskKey{"testorg", "proj", "dev", "t1", "v9"}).status().code() == Code::kNotFound);

  ListQuery q = Scope();
  absl::StatusOr<Page<Task>> latest = b.tasks().ListLatest(q);
  REQUIRE(latest.ok());
  REQUIRE(latest->items.size() == 2);
  CHECK(latest->items[0].key.name == "t1");
  CHECK(latest->items[0].key.version == "v2");
  CHECK(latest->items[1].key.name == "t2");
  q.filters = {{Field::kName, FilterOp::kEqual, {"t2"}}};
  CHECK(b.tasks().ListLatest(q)->items.size() == 1);
  q.filters = {{Field::kPhase, FilterOp::kEqual, {"1"}}};
  CHECK(b.tasks().ListLatest(q).status().code() == Code::kInvalidArgument);

  absl::StatusOr<Page<Task>> versions = b.tasks().ListVersions(TaskKey{"testorg", "proj", "dev", "t1", ""}, Scope());
  REQUIRE(versions.ok());
  REQUIRE(versions->items.size() == 2);
  CHECK(versions->items[0].key.version == "v2");
  CHECK(versions->items[1].key.version == "v1");
}

TEST_CASE("change listener fires after commit, not for rejected changes", "[repository][sqlite][postgres]") {
  Recorder rec;  // outlives the store, whose LISTEN thread calls it
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  rec.Attach(b.actions());
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(WaitFor([&] { return rec.Has("a0", 1); }));
  REQUIRE(b.actions().CreateAction(MakeChild("r1", "a1", "a0")).ok());
  REQUIRE(WaitFor([&] { return rec.Has("a1", 1); }));
  {
    std::lock_guard<std::mutex> l(rec.mu);
    CHECK(rec.seen.back().parent == std::optional<std::string>("a0"));
    CHECK(rec.seen.back().key == KeyOf("r1", "a1"));
  }
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kSucceeded, 5)).ok());
  REQUIRE(WaitFor([&] { return rec.Has("a0", 2); }));
  const size_t before = rec.size();
  CHECK_FALSE(b.actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kRunning, 6)).ok());
  CHECK_FALSE(b.actions().CreateRun(MakeRun("r1")).ok());
  // A later change arrives; the rejected ones never did.
  REQUIRE(b.actions().Abort(KeyOf("r1", "a1"), "stop", At(7)).ok());
  REQUIRE(WaitFor([&] { return rec.Has("a1", 2); }));
  CHECK(rec.size() == before + 1);
}

TEST_CASE("concurrent migrations of one fresh database", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  // b already migrated; run more replicas on yet another fresh database.
  flyte::db::DatabaseConfig fresh;
  std::optional<flyte::testing::TempSqlite> file;
  if (b.postgres) {
    fresh = flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(2);
  } else {
    file.emplace();
    fresh = file->database_config();
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(fresh);
      if (s.ok() && (*s)->Actions().CreateRun(MakeRun("r" + std::to_string(i))).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
  absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(fresh);
  REQUIRE(s.ok());
  ListQuery q = Scope();
  q.roots_only = true;
  CHECK((*s)->Actions().List(q)->items.size() == 4);
}

TEST_CASE("sqlite: CreateRun throughput", "[.benchmark][sqlite]") {
  flyte::testing::TempSqlite file;
  absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(file.database_config());
  REQUIRE(s.ok());
  constexpr int kRuns = 5000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) REQUIRE((*s)->Actions().CreateRun(MakeRun("r" + std::to_string(i), i)).ok());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("CreateRun: " << kRuns / secs << " runs/s (" << kRuns << " in " << secs << " s)");
}
