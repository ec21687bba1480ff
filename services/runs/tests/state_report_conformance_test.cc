// The repository's state-report contract (ApplyEvent / ApplyEvents), run against SQLite and a real PostgreSQL: the
// same conformance as repository_conformance_test.cc, split out by subject.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;
using Code = absl::StatusCode;

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
