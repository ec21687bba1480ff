// QueueUseCases against a real temp SQLite file: validation, long-poll wake-ups, metrics, cleanup.
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/common/clock.h"
#include "flyte/metrics/registry.h"
#include "flyte/testing/temp.h"
#include "repository/backend_factory.h"
#include "service/queue_use_cases.h"

using namespace flyte::queue;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

NewEntry Entry(const std::string& action, const std::string& run = "r1") {
  NewEntry e;
  e.key = ActionKey{RunKey{"org", "proj", "dev", run}, action};
  e.payload = "p-" + action;
  e.spec = SpecKind::kTask;
  return e;
}

// The value of one sample line ("name{labels} value") in the registry's text, or -1 if absent.
double Sample(flyte::metrics::Registry& registry, const std::string& series) {
  const std::string text = registry.Serialize();
  size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

struct Harness {
  explicit Harness(QueueOptions options = {}) {
    auto opened = OpenQueueBackend(sqlite.database_config());
    REQUIRE(opened.ok());
    backend = std::move(*opened);
    queue = std::make_unique<QueueUseCases>(*backend, clock, &registry, options);
  }
  flyte::testing::TempSqlite sqlite;
  flyte::common::FakeClock clock;
  flyte::metrics::Registry registry;
  std::unique_ptr<QueueBackend> backend;
  std::unique_ptr<QueueUseCases> queue;
};

QueueOptions SlowPoll() {
  QueueOptions o;
  o.poll_interval = milliseconds(60000);  // only a signal can wake a waiter early
  return o;
}

}  // namespace

TEST_CASE("an action without an org is queued (the SDK sends none to a single-tenant endpoint)", "[service][sqlite]") {
  Harness h;
  NewEntry e = Entry("a0");
  e.key.run.org.clear();
  REQUIRE(h.queue->Enqueue(e).ok());
  CHECK(h.backend->Depth()->ready == 1);
}

TEST_CASE("enqueue validation names the field", "[service][sqlite]") {
  Harness h;
  NewEntry e = Entry("a0");
  e.key.run.project.clear();
  absl::Status s = h.queue->Enqueue(e);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "action_id.run.project is required");

  e = Entry("a0");
  e.key.name.clear();
  CHECK(h.queue->Enqueue(e).message() == "action_id.name is required");
  e = Entry("a0");
  e.key.run.name.clear();
  CHECK(h.queue->Enqueue(e).message() == "action_id.run.name is required");
  e = Entry("a0");
  e.spec = SpecKind::kNone;
  CHECK(h.queue->Enqueue(e).message() == "one of task, trace, condition is required");
  CHECK(h.queue->AbortRun(RunKey{"o", "", "d", "r"}, "").message() == "run_id.project is required");
  CHECK(h.queue->Acquire("", 1, milliseconds(0)).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.queue->Acquire("e", 101, milliseconds(0)).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.backend->Depth()->ready == 0);

  REQUIRE(h.queue->Enqueue(Entry("a0")).ok());
  REQUIRE(h.queue->Enqueue(Entry("a0")).ok());
  CHECK(Sample(h.registry, "flyte_queue_enqueued_total") == 1);
}

TEST_CASE("a waiting acquire wakes when work is enqueued", "[service][sqlite][longpoll]") {
  Harness h(SlowPoll());
  auto start = steady_clock::now();
  auto waiter = std::async(std::launch::async, [&] { return h.queue->Acquire("exec-1", 1, milliseconds(20000)); });
  while (h.queue->waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  REQUIRE(h.queue->Enqueue(Entry("a1")).ok());
  REQUIRE(waiter.wait_for(seconds(5)) == std::future_status::ready);
  auto got = waiter.get();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].key.name == "a1");
  CHECK(steady_clock::now() - start < seconds(5));
  CHECK(h.queue->waiting_acquires() == 0);
}

TEST_CASE("a batch enqueue validates each action and stores the valid ones", "[service][sqlite]") {
  Harness h;
  NewEntry bad = Entry("a2");
  bad.key.run.project.clear();
  auto out = h.queue->EnqueueMany({Entry("a1"), bad, Entry("a3"), Entry("a1")});
  REQUIRE(out.ok());
  REQUIRE(out->size() == 4);
  CHECK((*out)[0].ok());
  CHECK((*out)[1].code() == absl::StatusCode::kInvalidArgument);
  CHECK((*out)[1].message() == "actions[1]: action_id.run.project is required");
  CHECK((*out)[2].ok());
  CHECK((*out)[3].ok());  // idempotent, as Enqueue
  CHECK(h.backend->Depth()->ready == 2);
  CHECK(Sample(h.registry, "flyte_queue_enqueued_total") == 2);

  auto too_many = h.queue->EnqueueMany(std::vector<NewEntry>(QueueUseCases::kMaxBatch + 1, Entry("x")));
  CHECK(too_many.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.backend->Depth()->ready == 2);
}

TEST_CASE("a waiting acquire wakes when a batch is enqueued", "[service][sqlite][longpoll]") {
  Harness h(SlowPoll());
  auto waiter = std::async(std::launch::async, [&] { return h.queue->Acquire("exec-1", 5, milliseconds(20000)); });
  while (h.queue->waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  REQUIRE(h.queue->EnqueueMany({Entry("a1"), Entry("a2")}).ok());
  REQUIRE(waiter.wait_for(seconds(5)) == std::future_status::ready);
  auto got = waiter.get();
  REQUIRE(got.ok());
  CHECK(got->size() == 2);
}

TEST_CASE("a batch complete answers each lease", "[service][sqlite]") {
  Harness h;
  REQUIRE(h.queue->EnqueueMany({Entry("a1"), Entry("a2")}).ok());
  auto got = h.queue->Acquire("exec-1", 2, milliseconds(0));
  REQUIRE(got->size() == 2);
  auto out = h.queue->CompleteMany("exec-1", {(*got)[0].lease_id, "", (*got)[1].lease_id, "gone"});
  REQUIRE(out.ok());
  REQUIRE(out->size() == 4);
  CHECK((*out)[0].ok());
  CHECK((*out)[1].code() == absl::StatusCode::kInvalidArgument);
  CHECK((*out)[1].message() == "completions[1].lease_id is required");
  CHECK((*out)[2].ok());
  CHECK((*out)[3].code() == absl::StatusCode::kFailedPrecondition);
  CHECK(h.backend->Depth()->done == 2);
  CHECK(h.queue->CompleteMany("", {"x"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.queue->CompleteMany("exec-1", std::vector<std::string>(QueueUseCases::kMaxBatch + 1, "x"))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a waiting acquire wakes when work is released", "[service][sqlite][longpoll]") {
  Harness h(SlowPoll());
  REQUIRE(h.queue->Enqueue(Entry("a1")).ok());
  auto held = h.queue->Acquire("exec-1", 1, milliseconds(0));
  REQUIRE(held->size() == 1);
  auto waiter = std::async(std::launch::async, [&] { return h.queue->Acquire("exec-2", 1, milliseconds(20000)); });
  while (h.queue->waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  REQUIRE(h.queue->Release("exec-1", (*held)[0].lease_id).ok());
  REQUIRE(waiter.wait_for(seconds(5)) == std::future_status::ready);
  auto got = waiter.get();
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].lease_owner == "exec-2");
  CHECK((*got)[0].delivery_count == 2);
}

TEST_CASE("a wait ends empty after wait_ms, the deadline, or shutdown", "[service][sqlite][longpoll]") {
  Harness h(SlowPoll());
  auto start = steady_clock::now();
  auto got = h.queue->Acquire("exec-1", 1, milliseconds(150));
  REQUIRE(got.ok());
  CHECK(got->empty());
  CHECK(steady_clock::now() - start >= milliseconds(150));
  CHECK(steady_clock::now() - start < seconds(3));

  start = steady_clock::now();
  got = h.queue->Acquire("exec-1", 1, milliseconds(20000), steady_clock::now() + milliseconds(100));
  CHECK(got->empty());
  CHECK(steady_clock::now() - start < seconds(3));

  auto waiter = std::async(std::launch::async, [&] { return h.queue->Acquire("exec-1", 1, milliseconds(20000)); });
  while (h.queue->waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  h.queue->Shutdown();
  REQUIRE(waiter.wait_for(seconds(3)) == std::future_status::ready);
  CHECK(waiter.get()->empty());
}

TEST_CASE("waiters beyond the limit are answered at once", "[service][sqlite][longpoll]") {
  QueueOptions o = SlowPoll();
  o.max_waiting_acquires = 1;
  Harness h(o);
  auto waiter = std::async(std::launch::async, [&] { return h.queue->Acquire("exec-1", 1, milliseconds(20000)); });
  while (h.queue->waiting_acquires() == 0) std::this_thread::sleep_for(milliseconds(5));
  auto start = steady_clock::now();
  auto second = h.queue->Acquire("exec-2", 1, milliseconds(20000));
  CHECK(second->empty());
  CHECK(steady_clock::now() - start < seconds(2));
  REQUIRE(h.queue->Enqueue(Entry("a1")).ok());
  CHECK(waiter.get()->size() == 1);
}

TEST_CASE("expired leases, depth gauges and cleanup show in metrics", "[service][sqlite][metrics]") {
  QueueOptions o;
  o.lease_duration = seconds(15);
  o.done_retention = std::chrono::minutes(10);
  Harness h(o);
  REQUIRE(h.queue->Enqueue(Entry("a1")).ok());
  REQUIRE(h.queue->Enqueue(Entry("a2")).ok());
  REQUIRE(h.queue->Enqueue(Entry("a3")).ok());
  auto dead = h.queue->Acquire("dead", 2, milliseconds(0));
  REQUIRE(dead->size() == 2);
  REQUIRE(h.queue->RunMaintenance().ok());
  CHECK(Sample(h.registry, "flyte_queue_depth{state=\"ready\"}") == 1);
  CHECK(Sample(h.registry, "flyte_queue_depth{state=\"leased\"}") == 2);
  CHECK(Sample(h.registry, "flyte_queue_leases_held") == 2);

  h.clock.Advance(seconds(16));
  auto taken = h.queue->Acquire("alive", 10, milliseconds(0));
  REQUIRE(taken->size() == 3);
  CHECK(Sample(h.registry, "flyte_queue_leases_expired_total") == 2);
  auto hb = h.queue->Heartbeat("dead", {(*dead)[0].lease_id});
  CHECK(hb->lost_lease_ids.size() == 1);

  for (const QueueEntry& e : *taken) REQUIRE(h.queue->Complete("alive", e.lease_id).ok());
  REQUIRE(h.queue->RunMaintenance().ok());
  CHECK(Sample(h.registry, "flyte_queue_depth{state=\"done\"}") == 3);
  CHECK(Sample(h.registry, "flyte_queue_leases_held") == 0);
  h.clock.Advance(std::chrono::minutes(11));
  REQUIRE(h.queue->RunMaintenance().ok());
  CHECK(Sample(h.registry, "flyte_queue_depth{state=\"done\"}") == 0);
  CHECK(Sample(h.registry, "flyte_queue_cleaned_total") == 3);

  REQUIRE(h.queue->Enqueue(Entry("b1", "r2")).ok());
  REQUIRE(h.queue->AbortRun(RunKey{"org", "proj", "dev", "r2"}, "stop").ok());
  CHECK(Sample(h.registry, "flyte_queue_aborts_total{scope=\"run\"}") == 1);
  CHECK(h.queue->AbortAction(ActionKey{RunKey{"org", "proj", "dev", "r9"}, "x"}, "").code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("WatchAborts: the holder of an aborted lease hears of it at once, others do not", "[service][sqlite]") {
  Harness h;
  REQUIRE(h.queue->Enqueue(Entry("a0")).ok());
  REQUIRE(h.queue->Enqueue(Entry("a0", "r2")).ok());
  auto mine = h.queue->Acquire("exec-1", 1, milliseconds(0));
  auto theirs = h.queue->Acquire("exec-2", 1, milliseconds(0));
  REQUIRE(mine->size() == 1);
  REQUIRE(theirs->size() == 1);

  std::mutex mu;
  std::vector<std::vector<std::string>> got1, got2;  // lease ids per message
  auto sink = [&mu](std::vector<std::vector<std::string>>& into) {
    return [&mu, &into](const std::vector<QueueEntry>& aborted) {
      std::vector<std::string> ids;
      for (const QueueEntry& e : aborted) ids.push_back(e.lease_id);
      std::lock_guard<std::mutex> l(mu);
      into.push_back(ids);
    };
  };
  auto sub1 = h.queue->WatchAborts("exec-1", sink(got1));
  auto sub2 = h.queue->WatchAborts("exec-2", sink(got2));
  REQUIRE(sub1.ok());
  REQUIRE(sub2.ok());
  {
    std::lock_guard<std::mutex> l(mu);
    // Each stream starts with what is pending for it: nothing yet.
    REQUIRE(got1.size() == 1);
    CHECK(got1[0].empty());
    REQUIRE(got2.size() == 1);
  }
  const std::string run1_lease = (*mine)[0].lease_id;
  REQUIRE(h.queue->AbortRun((*mine)[0].key.run, "stop").ok());
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(got1.size() == 2);
    CHECK(got1[1] == std::vector<std::string>{run1_lease});
    CHECK(got2.size() == 1);  // exec-2 holds nothing of that run
  }
  // A stream opened later gets the abort still pending for it.
  std::vector<std::vector<std::string>> late;
  auto sub3 = h.queue->WatchAborts("exec-1", sink(late));
  REQUIRE(sub3.ok());
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(late.size() == 1);
    CHECK(late[0] == std::vector<std::string>{run1_lease});
  }
  // Once a subscription is gone, nothing more reaches it.
  sub2->reset();
  REQUIRE(h.queue->AbortAction((*theirs)[0].key, "stop too").ok());
  std::lock_guard<std::mutex> l(mu);
  CHECK(got2.size() == 1);
  CHECK(h.queue->WatchAborts("", sink(late)).status().code() == absl::StatusCode::kInvalidArgument);
}
