// The one conformance suite for the runs repositories: every case runs against SQLite (a temp file) and
// PostgreSQL (the throwaway server, a fresh database per case). Tags: [repository][sqlite][postgres].
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
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

TEST_CASE("ApplyEvent: legal moves are stored with attempts, transitions and events",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  const ActionKey k = KeyOf("r1");

  ActionEvent init = MakeEvent(1, Phase::kInitializing, 10);
  init.cluster = "c1";
  init.log_info = std::string("\x0a\x00logs", 6);
  init.cluster_events = {ClusterEvent{At(9), "pulled image", 1, "Pulled"}};
  absl::StatusOr<Action> a = b.actions().ApplyEvent(k, init);
  REQUIRE(a.ok());
  CHECK(a->phase == Phase::kInitializing);
  CHECK(a->attempts == 1);
  CHECK(a->started_at == At(10));
  CHECK(a->version == 2);

  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(1, Phase::kRunning, 20)).ok());
  ActionEvent again = MakeEvent(1, Phase::kRunning, 25);  // same phase: no-op update, more events
  again.cluster_events = {ClusterEvent{At(25), "still running", 2, ""}};
  REQUIRE(b.actions().ApplyEvent(k, again).ok());
  ActionEvent done = MakeEvent(1, Phase::kSucceeded, 30);
  done.output_uri = "s3://out/1";
  a = b.actions().ApplyEvent(k, done);
  REQUIRE(a.ok());
  CHECK(a->ended_at == At(30));
  CHECK(a->output_uri == "s3://out/1");
  CHECK(a->version == 5);

  // Illegal: out of a terminal phase. Nothing changes.
  absl::StatusOr<Action> bad = b.actions().ApplyEvent(k, MakeEvent(1, Phase::kRunning, 40));
  CHECK(bad.status().code() == Code::kFailedPrecondition);
  CHECK(b.actions().ApplyEvent(KeyOf("nope"), MakeEvent(1, Phase::kRunning, 40)).status().code() ==
        Code::kNotFound);

  absl::StatusOr<ActionWithAttempts> full = b.actions().GetWithAttempts(k);
  REQUIRE(full.ok());
  CHECK(full->action.phase == Phase::kSucceeded);
  CHECK(full->action.version == 5);
  CHECK(full->action.updated_at == At(30));
  REQUIRE(full->attempts.size() == 1);
  const Attempt& at = full->attempts[0];
  CHECK(at.attempt == 1);
  CHECK(at.phase == Phase::kSucceeded);
  CHECK(at.start_time == At(10));
  CHECK(at.end_time == At(30));
  CHECK(at.output_uri == "s3://out/1");
  CHECK(at.cluster == "c1");
  CHECK(at.log_info == init.log_info);
  REQUIRE(at.transitions.size() == 3);
  CHECK(at.transitions[0].phase == Phase::kInitializing);
  CHECK(at.transitions[0].start_time == At(10));
  CHECK(at.transitions[0].end_time == At(20));
  CHECK(at.transitions[1].phase == Phase::kRunning);
  CHECK(at.transitions[1].end_time == At(30));
  CHECK(at.transitions[2].phase == Phase::kSucceeded);
  CHECK(at.transitions[2].end_time == At(30));
  REQUIRE(at.cluster_events.size() == 2);
  CHECK(at.cluster_events[0].message == "pulled image");
  CHECK(at.cluster_events[0].occurred_at == At(9));
  CHECK(at.cluster_events[0].type == 1);
  CHECK(at.cluster_events[0].reason == "Pulled");
  CHECK(at.cluster_events[1].message == "still running");
}

TEST_CASE("ApplyEvent: a retry opens attempt 2", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  const ActionKey k = KeyOf("r1");
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(1, Phase::kRunning, 10)).ok());
  ActionEvent fail = MakeEvent(1, Phase::kFailed, 20);
  fail.error = ErrorInfo{"oom", ErrorKind::kSystem, "OOMKilled"};
  absl::StatusOr<Action> a = b.actions().ApplyEvent(k, fail);
  REQUIRE(a.ok());
  CHECK(a->error.has_value());
  CHECK(a->ended_at == At(20));
  a = b.actions().ApplyEvent(k, MakeEvent(2, Phase::kQueued, 30));
  REQUIRE(a.ok());
  CHECK(a->attempts == 2);
  CHECK_FALSE(a->ended_at.has_value());
  CHECK_FALSE(a->error.has_value());
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(2, Phase::kRunning, 40)).ok());
  REQUIRE(b.actions().ApplyEvent(k, MakeEvent(2, Phase::kSucceeded, 50)).ok());
  absl::StatusOr<ActionWithAttempts> full = b.actions().GetWithAttempts(k);
  REQUIRE(full.ok());
  REQUIRE(full->attempts.size() == 2);
  CHECK(full->attempts[0].phase == Phase::kFailed);
  REQUIRE(full->attempts[0].error.has_value());
  CHECK(full->attempts[0].error->code == "OOMKilled");
  CHECK(full->attempts[0].error->kind == ErrorKind::kSystem);
  CHECK(full->attempts[0].end_time == At(20));
  CHECK(full->attempts[1].phase == Phase::kSucceeded);
  CHECK(full->attempts[1].start_time == At(30));
  CHECK_FALSE(full->attempts[1].error.has_value());
  CHECK(full->attempts[1].transitions.size() == 3);
  CHECK(full->action.attempts == 2);
}

TEST_CASE("ApplyEvents: one transaction, in order, one outcome per event", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(b.actions().CreateRun(MakeRun("r2")).ok());
  const ActionKey k1 = KeyOf("r1"), k2 = KeyOf("r2");
  ActionKey missing = KeyOf("r1");
  missing.name = "nope";
  std::vector<KeyedEvent> batch = {
      {k1, MakeEvent(1, Phase::kInitializing, 10)},
      {k2, MakeEvent(1, Phase::kSucceeded, 11)},
      {k1, MakeEvent(1, Phase::kRunning, 12)},
      {missing, MakeEvent(1, Phase::kRunning, 13)},
      {k2, MakeEvent(1, Phase::kRunning, 14)},  // after SUCCEEDED in the same batch: refused
      {k1, MakeEvent(1, Phase::kSucceeded, 15)},
  };
  std::vector<absl::StatusOr<Action>> out = b.actions().ApplyEvents(batch);
  REQUIRE(out.size() == batch.size());
  CHECK(out[0].ok());
  CHECK(out[1].ok());
  REQUIRE(out[2].ok());
  CHECK(out[2]->phase == Phase::kRunning);
  CHECK(out[3].status().code() == absl::StatusCode::kNotFound);
  CHECK(out[4].status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(out[5].ok());
  CHECK(out[5]->version == out[2]->version + 1);
  // The refusals changed nothing; what applied is stored with its history.
  absl::StatusOr<ActionWithAttempts> a1 = b.actions().GetWithAttempts(k1);
  REQUIRE(a1.ok());
  CHECK(a1->action.phase == Phase::kSucceeded);
  REQUIRE(a1->attempts.size() == 1);
  CHECK(a1->attempts[0].transitions.size() == 3);
  absl::StatusOr<Action> a2 = b.actions().Get(k2);
  REQUIRE(a2.ok());
  CHECK(a2->phase == Phase::kSucceeded);
  CHECK(a2->ended_at == At(11));
}

namespace {

// Random reports over four actions: phases legal and not, attempt numbers current, next, "current" (0) and
// stale, repeats, errors, outputs, logs, cluster events, and one action that does not exist.
std::vector<KeyedEvent> RandomReports(std::mt19937& rng, const std::vector<ActionKey>& keys) {
  const Phase phases[] = {Phase::kQueued,    Phase::kInitializing, Phase::kRunning, Phase::kRunning,
                          Phase::kSucceeded, Phase::kFailed,       Phase::kTimedOut};
  std::vector<KeyedEvent> out;
  std::vector<uint32_t> attempt(keys.size(), 1);
  for (int i = 0; i < 60; ++i) {
    const size_t k = rng() % keys.size();
    ActionEvent ev = MakeEvent(0, phases[rng() % 7], 100 + i);
    switch (rng() % 6) {
      case 0: ev.attempt = 0; break;
      case 1: ev.attempt = ++attempt[k]; break;
      case 2: ev.attempt = attempt[k] > 1 ? attempt[k] - 1 : 1; break;
      default: ev.attempt = attempt[k];
    }
    if (rng() % 4 == 0) ev.error = ErrorInfo{"boom " + std::to_string(i), ErrorKind::kUser, "E" + std::to_string(i)};
    if (rng() % 4 == 0) ev.output_uri = "s3://out/" + std::to_string(i);
    if (rng() % 4 == 0) ev.log_info = std::string("\x01\x00log", 5) + std::to_string(i);
    if (rng() % 5 == 0) ev.cluster = "c" + std::to_string(i);
    for (uint32_t n = rng() % 3; n > 0; --n) {
      ev.cluster_events.push_back(ClusterEvent{At(100 + i), "event " + std::to_string(i), 1, "R"});
    }
    out.push_back({keys[k], std::move(ev)});
  }
  return out;
}

void CheckSameAttempts(const std::vector<Attempt>& one_by_one, const std::vector<Attempt>& batched) {
  REQUIRE(one_by_one.size() == batched.size());
  for (size_t i = 0; i < batched.size(); ++i) {
    const Attempt& x = one_by_one[i];
    const Attempt& y = batched[i];
    CHECK(x.attempt == y.attempt);
    CHECK(x.phase == y.phase);
    CHECK(x.start_time == y.start_time);
    CHECK(x.end_time == y.end_time);
    CHECK(x.error == y.error);
    CHECK(x.output_uri == y.output_uri);
    CHECK(x.log_info == y.log_info);
    CHECK(x.cluster == y.cluster);
    REQUIRE(x.transitions.size() == y.transitions.size());
    for (size_t t = 0; t < x.transitions.size(); ++t) {
      CHECK(x.transitions[t].phase == y.transitions[t].phase);
      CHECK(x.transitions[t].start_time == y.transitions[t].start_time);
      CHECK(x.transitions[t].end_time == y.transitions[t].end_time);
    }
    REQUIRE(x.cluster_events.size() == y.cluster_events.size());
    for (size_t e = 0; e < x.cluster_events.size(); ++e) {
      CHECK(x.cluster_events[e].message == y.cluster_events[e].message);
      CHECK(x.cluster_events[e].occurred_at == y.cluster_events[e].occurred_at);
    }
  }
}

}  // namespace

TEST_CASE("ApplyEvents: batches of any size store exactly what the events applied one at a time store",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  size_t applied = 0, refused = 0, retried_attempts = 0, histories = 0;  // the cases are not vacuous
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    // Two copies of the same actions: run "s<seed>" gets the reports one at a time, "b<seed>" in random batches.
    std::vector<ActionKey> single, batched;
    for (const std::string& prefix : {std::string("s"), std::string("b")}) {
      const std::string run = prefix + std::to_string(seed);
      REQUIRE(b.actions().CreateRun(MakeRun(run)).ok());
      std::vector<ActionKey>& keys = prefix == "s" ? single : batched;
      keys.push_back(KeyOf(run));
      for (const char* child : {"c1", "c2"}) {
        REQUIRE(b.actions().CreateAction(MakeChild(run, child, "a0")).ok());
        keys.push_back(KeyOf(run, child));
      }
      keys.push_back(KeyOf(run, "missing"));
    }
    const std::vector<KeyedEvent> reports = RandomReports(rng, single);
    std::vector<absl::StatusOr<Action>> one_by_one, in_batches;
    for (const KeyedEvent& r : reports) one_by_one.push_back(b.actions().ApplyEvent(r.key, r.event));
    for (size_t at = 0; at < reports.size();) {
      const size_t n = std::min<size_t>(reports.size() - at, 1 + rng() % 25);
      std::vector<KeyedEvent> batch;
      for (size_t i = at; i < at + n; ++i) {
        KeyedEvent r = reports[i];
        r.key = batched[std::find(single.begin(), single.end(), r.key) - single.begin()];
        batch.push_back(std::move(r));
      }
      for (absl::StatusOr<Action>& o : b.actions().ApplyEvents(batch)) in_batches.push_back(std::move(o));
      at += n;
    }
    INFO("seed " << seed);
    REQUIRE(in_batches.size() == one_by_one.size());
    for (size_t i = 0; i < reports.size(); ++i) {
      INFO("report " << i);
      REQUIRE(in_batches[i].status().code() == one_by_one[i].status().code());
      ++(one_by_one[i].ok() ? applied : refused);
      if (one_by_one[i].ok()) {
        CHECK(in_batches[i]->phase == one_by_one[i]->phase);
        CHECK(in_batches[i]->version == one_by_one[i]->version);
        CHECK(in_batches[i]->attempts == one_by_one[i]->attempts);
      }
    }
    for (size_t k = 0; k + 1 < single.size(); ++k) {
      absl::StatusOr<ActionWithAttempts> x = b.actions().GetWithAttempts(single[k]);
      absl::StatusOr<ActionWithAttempts> y = b.actions().GetWithAttempts(batched[k]);
      REQUIRE(x.ok());
      REQUIRE(y.ok());
      y->action.key = x->action.key;  // the run name and what the builders derive from it differ
      y->action.input_uri = x->action.input_uri;
      y->action.run_output_base = x->action.run_output_base;
      CHECK(x->action == y->action);
      CheckSameAttempts(x->attempts, y->attempts);
      retried_attempts += x->attempts.size() > 1 ? 1 : 0;
      for (const Attempt& at : x->attempts) histories += at.transitions.size() > 2 ? 1 : 0;
    }
  }
  CHECK(applied > 100);
  CHECK(refused > 100);
  CHECK(retried_attempts > 5);
  CHECK(histories > 5);
  INFO(applied << " applied, " << refused << " refused");
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

TEST_CASE("postgres: two stores on one database hear each other's changes", "[repository][postgres]") {
  Recorder mine, theirs;  // outlive the stores
  Backend b("postgres");
  std::unique_ptr<Store> other = b.Open();
  mine.Attach(b.actions());
  theirs.Attach(other->Actions());
  REQUIRE(other->Actions().CreateRun(MakeRun("r1")).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 1) && theirs.Has("a0", 1); }));
  REQUIRE(b.actions().ApplyEvent(KeyOf("r1"), MakeEvent(1, Phase::kRunning, 3)).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 2) && theirs.Has("a0", 2); }));
  // Several changes in one transaction (a batched report) are announced together, every one of them.
  std::vector<KeyedEvent> batch;
  for (const char* name : {"c1", "c2", "c3"}) {
    REQUIRE(b.actions().CreateAction(MakeChild("r1", name, "a0")).ok());
    batch.push_back(KeyedEvent{KeyOf("r1", name), MakeEvent(1, Phase::kInitializing, 4)});
  }
  for (const absl::StatusOr<Action>& applied : b.actions().ApplyEvents(batch)) REQUIRE(applied.ok());
  CHECK(WaitFor([&] { return theirs.Has("c1", 2) && theirs.Has("c2", 2) && theirs.Has("c3", 2); }));
  CHECK(WaitFor([&] { return mine.Has("c1", 2) && mine.Has("c2", 2) && mine.Has("c3", 2); }));
  // A child created with its queue command (one statement of its own) is announced to both, with its parent, and
  // once to the replica that created it (which skips its own entries in the change log).
  Action child = MakeChild("r1", "c4", "a0");
  REQUIRE(b.actions()
              .CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", "req", 0})
              .ok());
  CHECK(WaitFor([&] { return theirs.Has("c4", 1) && mine.Has("c4", 1); }));
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1", "c4"), MakeEvent(1, Phase::kInitializing, 5)).ok());
  CHECK(WaitFor([&] { return mine.Has("c4", 2); }));  // later changes arrive after it
  std::lock_guard<std::mutex> l(mine.mu);
  CHECK(std::count_if(mine.seen.begin(), mine.seen.end(), [](const ActionChange& c) {
          return c.key.name == "c4" && c.version == 1 && c.parent == std::optional<std::string>("a0");
        }) == 1);
}

TEST_CASE("postgres: a replica whose LISTEN connection dropped still gets every change",
          "[repository][postgres]") {
  using namespace std::chrono_literals;
  Recorder mine;  // outlives the stores
  Backend b("postgres");                    // the replica that loses its LISTEN connection
  std::unique_ptr<Store> other = b.Open();  // the replica that writes meanwhile
  mine.Attach(b.actions());
  REQUIRE(other->Actions().CreateRun(MakeRun("r1")).ok());
  REQUIRE(WaitFor([&] { return mine.Has("a0", 1); }));

  flyte::db::PostgresConfig admin_config = *b.config.postgres;
  admin_config.dbname = "postgres";
  absl::StatusOr<std::unique_ptr<flyte::db::Database>> admin = flyte::db::OpenPostgres(admin_config, 1);
  REQUIRE(admin.ok());
  auto sql = [&](const std::string& q) {
    REQUIRE((*admin)->Write("admin", [&](flyte::db::Tx& tx) { return tx.Query(q).status(); }).ok());
  };
  const std::string db = b.config.postgres->dbname;
  // The listeners' connections are cut and cannot come back yet; pooled connections already open keep working.
  sql("ALTER DATABASE \"" + db + "\" WITH ALLOW_CONNECTIONS false");
  sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db +
      "' AND application_name LIKE 'flyte-listen %'");
  std::this_thread::sleep_for(300ms);
  ActionEvent running = MakeEvent(1, Phase::kRunning, 0);
  running.occurred_at = flyte::common::Clock::System().Now();
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1"), running).ok());
  // Its NOTIFY reaches no listener of this replica, but the replica reads the change log on a timer as well.
  CHECK(WaitFor([&] { return mine.Has("a0", 2); }, 5s));

  sql("ALTER DATABASE \"" + db + "\" WITH ALLOW_CONNECTIONS true");
  ActionEvent succeeded = MakeEvent(1, Phase::kSucceeded, 0);
  succeeded.occurred_at = flyte::common::Clock::System().Now();
  REQUIRE(other->Actions().ApplyEvent(KeyOf("r1"), succeeded).ok());
  CHECK(WaitFor([&] { return mine.Has("a0", 3); }, 15s));
  CHECK(mine.Count("a0", 2) == 1);
}

TEST_CASE("postgres: database down is kUnavailable, and the store recovers", "[repository][postgres]") {
  Recorder rec;
  Backend b("postgres");
  rec.Attach(b.actions());
  REQUIRE(b.actions().CreateRun(MakeRun("r1")).ok());
  auto& pg = flyte::testing::ThrowawayPostgres::Instance();
  pg.Stop();
  CHECK(b.actions().Get(KeyOf("r1")).status().code() == Code::kUnavailable);
  CHECK(b.actions().CreateRun(MakeRun("r2")).code() == Code::kUnavailable);
  CHECK(b.store->Ping().code() == Code::kUnavailable);
  CHECK(OpenStore(b.config).status().code() == Code::kUnavailable);
  pg.Start();
  CHECK(b.store->Ping().ok());
  CHECK(b.actions().Get(KeyOf("r1")).ok());
  // The LISTEN loop reconnects by itself (backoff up to 5 s).
  int n = 100;
  CHECK(WaitFor(
      [&] {
        (void)b.actions().CreateRun(MakeRun("r" + std::to_string(n++)));
        std::lock_guard<std::mutex> l(rec.mu);
        return rec.seen.size() >= 2;
      },
      std::chrono::seconds(15)));
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
