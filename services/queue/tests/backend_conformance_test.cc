// One conformance suite for every QueueBackend implementation: each case runs against a fresh SQLite file and a
// fresh database on the throwaway PostgreSQL server.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "action_queue_cases.h"
#include "flyte/testing/postgres.h"
#include "flyte/testing/temp.h"
#include "repository/backend_factory.h"

using namespace flyte::queue;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));
constexpr milliseconds kLease{15000};

// Owns the database location so a backend can be closed and opened again on the same data.
class Fixture {
 public:
  explicit Fixture(const std::string& kind) : kind_(kind) {
    if (kind == "postgres") {
      config_ = flyte::testing::ThrowawayPostgres::Instance().CreateDatabaseConfig(8);
    } else {
      sqlite_ = std::make_unique<flyte::testing::TempSqlite>();
      config_ = sqlite_->database_config();
    }
  }
  std::unique_ptr<QueueBackend> Open() {
    auto backend = OpenQueueBackend(config_);
    REQUIRE(backend.ok());
    return std::move(*backend);
  }

 private:
  std::string kind_;
  std::unique_ptr<flyte::testing::TempSqlite> sqlite_;
  flyte::db::DatabaseConfig config_;
};

using cases::Entry;
using cases::Key;

}  // namespace

TEST_CASE("enqueue is idempotent per action key", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  auto first = q->Enqueue(Entry("a0"), kT0);
  REQUIRE(first.ok());
  CHECK(*first);
  NewEntry again = Entry("a0");
  again.payload = "different";
  auto second = q->Enqueue(again, kT0 + seconds(1));
  REQUIRE(second.ok());
  CHECK_FALSE(*second);

  auto got = q->Get(Key("a0"));
  REQUIRE(got.ok());
  CHECK(got->payload == Entry("a0").payload);  // the first enqueue wins, verbatim (binary-safe)
  CHECK(got->state == EntryState::kReady);
  CHECK(got->enqueued_at == kT0);
  CHECK(got->delivery_count == 0);
  auto depth = q->Depth();
  REQUIRE(depth.ok());
  CHECK(depth->ready == 1);
  CHECK(depth->leased == 0);
  CHECK(q->Get(Key("nope")).status().code() == absl::StatusCode::kNotFound);

  // Same action name in another run is another entry.
  REQUIRE(q->Enqueue(Entry("a0", "r2"), kT0).value());
  CHECK(q->Depth()->ready == 2);
}

TEST_CASE("acquire hands out oldest first, each entry once", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  for (const char* a : {"a1", "a2", "a3"}) REQUIRE(q->Enqueue(Entry(a), kT0).ok());

  auto first = q->Acquire("exec-1", 2, kT0, kLease);
  REQUIRE(first.ok());
  REQUIRE(first->leased.size() == 2);
  CHECK(first->leased[0].key.name == "a1");
  CHECK(first->leased[1].key.name == "a2");
  CHECK(first->expired_reclaimed == 0);
  const QueueEntry& l = first->leased[0];
  CHECK(l.state == EntryState::kLeased);
  CHECK(l.lease_owner == "exec-1");
  CHECK(l.delivery_count == 1);
  CHECK(l.lease_expires_at == kT0 + kLease);
  CHECK(l.lease_id.size() == 32);
  CHECK(l.lease_id != first->leased[1].lease_id);
  CHECK(l.payload == Entry("a1").payload);

  auto second = q->Acquire("exec-2", 10, kT0, kLease);
  REQUIRE(second.ok());
  REQUIRE(second->leased.size() == 1);
  CHECK(second->leased[0].key.name == "a3");
  CHECK(q->Acquire("exec-3", 10, kT0, kLease)->leased.empty());
  auto depth = q->Depth();
  CHECK(depth->ready == 0);
  CHECK(depth->leased == 3);
}

TEST_CASE("concurrent acquirers never share an entry", "[repository][sqlite][postgres][concurrency]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  constexpr int kEntries = 60;
  for (int i = 0; i < kEntries; ++i) REQUIRE(q->Enqueue(Entry("a" + std::to_string(i)), kT0).ok());

  std::mutex mu;
  std::map<std::string, std::string> owner_of;  // action -> executor
  std::vector<std::string> duplicates;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string me = "exec-" + std::to_string(t);
      for (int round = 0; round < 40; ++round) {
        auto got = q->Acquire(me, 3, kT0, kLease);
        if (!got.ok()) {
          ++errors;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        for (const QueueEntry& e : got->leased) {
          if (!owner_of.emplace(e.key.name, me).second) duplicates.push_back(e.key.name);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(errors == 0);
  CHECK(duplicates.empty());
  CHECK(owner_of.size() == kEntries);
  CHECK(q->Depth()->leased == kEntries);
}

TEST_CASE("expired leases are handed out again with delivery + 1", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
  auto first = q->Acquire("dead-exec", 1, kT0, kLease);
  REQUIRE(first->leased.size() == 1);
  const std::string old_lease = first->leased[0].lease_id;

  // Not yet expired: nobody else gets it.
  CHECK(q->Acquire("exec-2", 1, kT0 + kLease - milliseconds(1), kLease)->leased.empty());

  auto again = q->Acquire("exec-2", 1, kT0 + kLease, kLease);
  REQUIRE(again.ok());
  REQUIRE(again->leased.size() == 1);
  CHECK(again->expired_reclaimed == 1);
  const QueueEntry& e = again->leased[0];
  CHECK(e.lease_owner == "exec-2");
  CHECK(e.delivery_count == 2);
  CHECK(e.lease_id != old_lease);

  // The dead executor's lease is gone for good: heartbeat reports it lost, Complete is refused.
  auto hb = q->Heartbeat("dead-exec", {old_lease}, kT0 + kLease, kLease);
  REQUIRE(hb.ok());
  CHECK(hb->renewed.empty());
  CHECK(hb->lost_lease_ids == std::vector<std::string>{old_lease});
  CHECK(q->Complete("dead-exec", old_lease, kT0 + kLease).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(q->Complete("exec-2", e.lease_id, kT0 + kLease).ok());
  CHECK(q->Get(Key("a1"))->state == EntryState::kDone);
}

TEST_CASE("one acquire hands out expired leases before ready entries, with fresh lease ids",
          "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
  auto first = q->Acquire("dead-exec", 5, kT0, kLease);
  REQUIRE(first->leased.size() == 1);
  REQUIRE(q->EnqueueMany({Entry("a2"), Entry("a3"), Entry("a4")}, kT0 + seconds(1)).ok());
  auto got = q->Acquire("exec-2", 3, kT0 + kLease, kLease);  // room for three of the four
  REQUIRE(got.ok());
  std::vector<std::string> order;
  std::set<std::string> lease_ids;
  for (const QueueEntry& e : got->leased) {
    order.push_back(e.key.name);
    lease_ids.insert(e.lease_id);
    CHECK(e.lease_id.size() == 32);
    CHECK(e.lease_id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(e.state == EntryState::kLeased);
    CHECK(e.lease_expires_at == kT0 + kLease + kLease);
  }
  CHECK(order == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(got->expired_reclaimed == 1);
  CHECK(lease_ids.size() == 3);
  CHECK_FALSE(lease_ids.count(first->leased[0].lease_id));
  CHECK(q->Acquire("exec-3", 3, kT0 + kLease, kLease)->leased.size() == 1);  // a4
}

TEST_CASE("heartbeat keeps a lease and reports lost ones", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a2"), kT0).ok());
  auto got = q->Acquire("exec-1", 2, kT0, kLease);
  REQUIRE(got->leased.size() == 2);
  const std::string l1 = got->leased[0].lease_id;
  const std::string l2 = got->leased[1].lease_id;

  // Renew l1 every 10 s for a minute: it never expires; l2 is not renewed and does.
  TimePoint now = kT0;
  for (int i = 0; i < 6; ++i) {
    now += seconds(10);
    std::vector<std::string> ids = {l1};
    if (i == 0) ids.push_back(l2);  // l2 renewed once, at +10 s, so it expires at +25 s
    auto hb = q->Heartbeat("exec-1", ids, now, kLease);
    REQUIRE(hb.ok());
    REQUIRE(hb->renewed.size() == ids.size());
    CHECK(hb->renewed[0].lease_expires_at == now + kLease);
    CHECK(hb->lost_lease_ids.empty());
    auto other = q->Acquire("exec-2", 5, now, kLease);
    REQUIRE(other.ok());
    for (const QueueEntry& e : other->leased) CHECK(e.key.name == "a2");
    if (i >= 2) {
      // From +30 s on, l2 has expired and was reassigned on the first pass that saw it.
      auto lost = q->Heartbeat("exec-1", {l2, "no-such-lease"}, now, kLease);
      CHECK(lost->lost_lease_ids == std::vector<std::string>{l2, "no-such-lease"});
    }
  }
  CHECK(q->Get(Key("a1"))->lease_owner == "exec-1");
  CHECK(q->Get(Key("a2"))->lease_owner == "exec-2");
  // Another executor cannot renew a lease it does not own.
  auto stolen = q->Heartbeat("exec-2", {l1}, now, kLease);
  CHECK(stolen->lost_lease_ids == std::vector<std::string>{l1});
}

TEST_CASE("complete and release need the owning executor", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
  auto got = q->Acquire("exec-1", 1, kT0, kLease);
  const std::string lease = got->leased.at(0).lease_id;

  CHECK(q->Complete("exec-2", lease, kT0).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(q->Release("exec-2", lease, kT0).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(q->Complete("exec-1", "bogus", kT0).code() == absl::StatusCode::kFailedPrecondition);

  REQUIRE(q->Release("exec-1", lease, kT0 + seconds(1)).ok());
  auto released = q->Get(Key("a1"));
  CHECK(released->state == EntryState::kReady);
  CHECK(released->lease_id.empty());
  CHECK(q->Complete("exec-1", lease, kT0).code() == absl::StatusCode::kFailedPrecondition);

  auto again = q->Acquire("exec-2", 1, kT0 + seconds(2), kLease);
  REQUIRE(again->leased.size() == 1);
  CHECK(again->leased[0].delivery_count == 2);
  REQUIRE(q->Complete("exec-2", again->leased[0].lease_id, kT0 + seconds(3)).ok());
  CHECK(q->Get(Key("a1"))->state == EntryState::kDone);
  // Completing twice is refused: the lease is over.
  CHECK(q->Complete("exec-2", again->leased[0].lease_id, kT0).code() == absl::StatusCode::kFailedPrecondition);
  // DONE entries are not handed out, and enqueueing the same action again does not revive it.
  CHECK_FALSE(q->Enqueue(Entry("a1"), kT0 + seconds(4)).value());
  CHECK(q->Acquire("exec-3", 5, kT0 + seconds(60), kLease)->leased.empty());
}

TEST_CASE("a batch enqueue stores each entry once, in order, in one call", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).value());
  NewEntry repeated = Entry("a3");
  repeated.payload = "second copy";
  auto created = q->EnqueueMany({Entry("a1"), Entry("a2", "r1", "a1"), Entry("a3"), repeated}, kT0 + seconds(1));
  REQUIRE(created.ok());
  // Already queued before, new, new, repeated within the batch.
  CHECK(*created == std::vector<bool>{false, true, true, false});
  auto a2 = q->Get(Key("a2"));
  REQUIRE(a2.ok());
  CHECK(a2->parent == std::optional<std::string>("a1"));
  CHECK(a2->payload == Entry("a2").payload);
  CHECK(a2->state == EntryState::kReady);
  CHECK(q->Get(Key("a3"))->payload == Entry("a3").payload);  // the first copy wins, as for single enqueues
  CHECK(q->Get(Key("a1"))->enqueued_at == kT0);               // untouched by the repeat

  // Handed out in batch order, after what was queued before.
  auto got = q->Acquire("exec-1", 10, kT0 + seconds(2), kLease);
  REQUIRE(got.ok());
  std::vector<std::string> order;
  for (const QueueEntry& e : got->leased) order.push_back(e.key.name);
  CHECK(order == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(q->EnqueueMany({}, kT0)->empty());
  // Payloads are kept byte for byte, whatever the bytes.
  NewEntry binary = Entry("a4");
  binary.payload.clear();
  for (int c = 0; c < 256; ++c) binary.payload += static_cast<char>(c);
  REQUIRE(q->EnqueueMany({binary, Entry("a5")}, kT0 + seconds(3)).ok());
  CHECK(q->Get(Key("a4"))->payload == binary.payload);
}

TEST_CASE("a batch complete answers each lease as complete would", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->EnqueueMany({Entry("a1"), Entry("a2"), Entry("a3")}, kT0).ok());
  auto mine = q->Acquire("exec-1", 2, kT0, kLease);
  auto theirs = q->Acquire("exec-2", 1, kT0, kLease);
  REQUIRE(mine->leased.size() == 2);
  REQUIRE(theirs->leased.size() == 1);
  const std::string l1 = mine->leased[0].lease_id, l2 = mine->leased[1].lease_id;
  const std::string other = theirs->leased[0].lease_id;

  auto out = q->CompleteMany("exec-1", {l1, other, "bogus", l2, l1}, kT0 + seconds(1));
  REQUIRE(out.ok());
  REQUIRE(out->size() == 5);
  CHECK((*out)[0].ok());
  CHECK((*out)[1].code() == absl::StatusCode::kFailedPrecondition);  // held by exec-2
  CHECK((*out)[2].code() == absl::StatusCode::kFailedPrecondition);  // never existed
  CHECK((*out)[3].ok());
  CHECK((*out)[4].code() == absl::StatusCode::kFailedPrecondition);  // completed earlier in this batch
  CHECK(q->Get(Key("a1"))->state == EntryState::kDone);
  CHECK(q->Get(Key("a2"))->state == EntryState::kDone);
  CHECK(q->Get(Key("a3"))->state == EntryState::kLeased);  // the refused item changed nothing
  // A lease past its expiry that nobody took over can still be completed, as with Complete.
  auto late = q->CompleteMany("exec-2", {other}, kT0 + kLease + seconds(5));
  REQUIRE(late.ok());
  CHECK(late->at(0).ok());
  CHECK(q->Depth()->done == 3);
  CHECK(q->CompleteMany("exec-1", {}, kT0)->empty());
}

TEST_CASE("abort run drops ready entries and flags leased ones", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a1", "r1", "a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a0", "other"), kT0).ok());
  auto got = q->Acquire("exec-1", 1, kT0, kLease);
  REQUIRE(got->leased.at(0).key == Key("a0"));
  const std::string lease = got->leased[0].lease_id;

  auto flagged = q->AbortRun(RunKey{"org", "proj", "dev", "r1"}, "user asked", kT0 + seconds(1));
  REQUIRE(flagged.ok());
  CHECK(*flagged == 2);
  auto a0 = q->Get(Key("a0"));
  CHECK(a0->state == EntryState::kLeased);
  CHECK(a0->abort_requested);
  CHECK(a0->abort_reason == "user asked");
  auto a1 = q->Get(Key("a1"));
  CHECK(a1->state == EntryState::kDone);
  CHECK(a1->abort_requested);
  CHECK(q->Get(Key("a0", "other"))->state == EntryState::kReady);

  // The executor sees the flag on its next heartbeat.
  auto hb = q->Heartbeat("exec-1", {lease}, kT0 + seconds(2), kLease);
  REQUIRE(hb->renewed.size() == 1);
  CHECK(hb->renewed[0].abort_requested);
  // Only the other run is still available.
  auto rest = q->Acquire("exec-2", 5, kT0 + seconds(2), kLease);
  REQUIRE(rest->leased.size() == 1);
  CHECK(rest->leased[0].key.run.name == "other");
  // A run with nothing queued is not an error.
  CHECK(q->AbortRun(RunKey{"org", "proj", "dev", "ghost"}, "", kT0).value() == 0);

  // An aborted entry whose executor died is not handed out again.
  auto later = q->Acquire("exec-3", 5, kT0 + seconds(60), kLease);
  REQUIRE(later.ok());
  CHECK(later->leased.size() == 1);  // "other"'s expired lease, not the aborted a0
  CHECK(later->leased[0].key.run.name == "other");
  CHECK(later->expired_dropped == 1);
  CHECK(q->Get(Key("a0"))->state == EntryState::kDone);
}

TEST_CASE("aborted leases are listed with their holders, by run and by executor", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a1", "r1", "a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a2", "r1", "a0"), kT0).ok());  // stays READY: aborted, never leased
  REQUIRE(q->Enqueue(Entry("a0", "r2"), kT0).ok());
  auto one = q->Acquire("exec-1", 2, kT0, kLease);  // r1/a0, r1/a1
  auto two = q->Acquire("exec-2", 1, kT0 + milliseconds(1), kLease);  // r1/a2
  REQUIRE(one->leased.size() == 2);
  REQUIRE(two->leased.size() == 1);
  REQUIRE(q->Complete("exec-2", two->leased[0].lease_id, kT0).ok());  // finished before the abort: not listed
  auto other = q->Acquire("exec-2", 1, kT0 + milliseconds(2), kLease);  // r2/a0, not aborted
  REQUIRE(other->leased.size() == 1);
  CHECK(q->AbortedLeases(std::nullopt, "")->empty());

  REQUIRE(q->AbortRun(RunKey{"org", "proj", "dev", "r1"}, "user asked", kT0 + seconds(1)).ok());
  auto in_run = q->AbortedLeases(RunKey{"org", "proj", "dev", "r1"}, "");
  REQUIRE(in_run.ok());
  REQUIRE(in_run->size() == 2);
  CHECK((*in_run)[0].key == Key("a0"));
  CHECK((*in_run)[1].key == Key("a1"));
  for (const QueueEntry& e : *in_run) {
    CHECK(e.lease_owner == "exec-1");
    CHECK(e.abort_reason == "user asked");
    CHECK_FALSE(e.lease_id.empty());
  }
  CHECK(q->AbortedLeases(std::nullopt, "exec-1")->size() == 2);
  CHECK(q->AbortedLeases(std::nullopt, "exec-2")->empty());
  CHECK(q->AbortedLeases(RunKey{"org", "proj", "dev", "r2"}, "")->empty());
  // Completed leases are no longer listed.
  REQUIRE(q->Complete("exec-1", (*in_run)[0].lease_id, kT0 + seconds(2)).ok());
  CHECK(q->AbortedLeases(std::nullopt, "exec-1")->size() == 1);
}

TEST_CASE("abort action covers its descendants only", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  // a0 -> {b1 -> {c1 -> d1}, b2}
  REQUIRE(q->Enqueue(Entry("a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("b1", "r1", "a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("b2", "r1", "a0"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("c1", "r1", "b1"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("d1", "r1", "c1"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("b1", "r2", "a0"), kT0).ok());  // same names, other run

  auto flagged = q->AbortAction(Key("b1"), "why", kT0);
  REQUIRE(flagged.ok());
  CHECK(*flagged == 3);
  for (const char* a : {"b1", "c1", "d1"}) {
    CHECK(q->Get(Key(a))->state == EntryState::kDone);
    CHECK(q->Get(Key(a))->abort_requested);
  }
  for (const char* a : {"a0", "b2"}) CHECK(q->Get(Key(a))->state == EntryState::kReady);
  CHECK(q->Get(Key("b1", "r2"))->state == EntryState::kReady);
  CHECK(q->AbortAction(Key("zz"), "", kT0).status().code() == absl::StatusCode::kNotFound);
  // Aborting again is harmless.
  CHECK(q->AbortAction(Key("b1"), "again", kT0).value() == 0);
}

TEST_CASE("entries survive closing and reopening the backend", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  std::string lease;
  {
    auto q = f.Open();
    REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
    REQUIRE(q->Enqueue(Entry("a2"), kT0).ok());
    lease = q->Acquire("exec-1", 1, kT0, kLease)->leased.at(0).lease_id;
  }
  auto q = f.Open();
  auto a1 = q->Get(Key("a1"));
  REQUIRE(a1.ok());
  CHECK(a1->state == EntryState::kLeased);
  CHECK(a1->lease_id == lease);
  CHECK(q->Get(Key("a2"))->state == EntryState::kReady);
  // The lease still works after the restart.
  CHECK(q->Heartbeat("exec-1", {lease}, kT0 + seconds(1), kLease)->renewed.size() == 1);
  CHECK(q->Complete("exec-1", lease, kT0 + seconds(2)).ok());
}

TEST_CASE("done entries are deleted after retention", "[repository][sqlite][postgres]") {
  Fixture f(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  auto q = f.Open();
  REQUIRE(q->Enqueue(Entry("a1"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a2"), kT0).ok());
  REQUIRE(q->Enqueue(Entry("a3"), kT0).ok());
  auto got = q->Acquire("exec-1", 2, kT0, kLease);
  REQUIRE(q->Complete("exec-1", got->leased.at(0).lease_id, kT0 + seconds(10)).ok());
  REQUIRE(q->AbortAction(Key("a3"), "", kT0 + seconds(100)).ok());  // READY -> DONE at +100 s

  CHECK(q->DeleteDoneBefore(kT0 + seconds(10)).value() == 0);  // strictly older only
  CHECK(q->DeleteDoneBefore(kT0 + seconds(11)).value() == 1);
  CHECK(q->Get(Key("a1")).status().code() == absl::StatusCode::kNotFound);
  CHECK(q->Get(Key("a2"))->state == EntryState::kLeased);  // never deletes live entries
  CHECK(q->Get(Key("a3"))->state == EntryState::kDone);
  auto depth = q->Depth();
  CHECK(depth->ready == 0);
  CHECK(depth->leased == 1);
  CHECK(depth->done == 1);
}
