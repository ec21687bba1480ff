// Conformance suite of the TriggerRepository port (triggers and named leases): every case runs against SQLite and
// PostgreSQL. Two Stores on one database stand for two replicas.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using Code = absl::StatusCode;

namespace {

Trigger MakeTrigger(const std::string& task, const std::string& name, std::optional<int64_t> next_s) {
  Trigger t;
  t.key = TriggerKey{"org", "proj", "dev", task, name};
  t.task_version = "v1";
  t.spec = std::string("spec\x00\xff", 6);  // bytes, verbatim
  t.automation_spec = "auto-" + name;
  t.active = next_s.has_value();
  t.deployed_at = t.updated_at = At(0);
  if (next_s) t.next_fire_at = At(*next_s);
  return t;
}

}  // namespace

TEST_CASE("triggers: deploy, redeploy, get, list by scope, delete, seen by another replica",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  TriggerRepository& repo = b.store->Triggers();
  absl::StatusOr<Trigger> first = repo.Deploy(MakeTrigger("t1", "every-minute", 60));
  REQUIRE(first.ok());
  CHECK(first->revision == 1);
  CHECK(*first == [] { Trigger t = MakeTrigger("t1", "every-minute", 60); t.revision = 1; return t; }());
  REQUIRE(repo.Deploy(MakeTrigger("t1", "nightly", std::nullopt)).ok());
  REQUIRE(repo.Deploy(MakeTrigger("t2", "every-minute", 30)).ok());

  // A redeploy replaces the spec and schedule, bumps the revision, keeps deployed_at.
  Trigger again = MakeTrigger("t1", "every-minute", 120);
  again.spec = "spec-2";
  again.task_version = "v2";
  again.deployed_at = again.updated_at = At(50);
  absl::StatusOr<Trigger> second = repo.Deploy(again);
  REQUIRE(second.ok());
  CHECK(second->revision == 2);
  CHECK(second->spec == "spec-2");
  CHECK(second->task_version == "v2");
  CHECK(second->deployed_at == At(0));
  CHECK(second->updated_at == At(50));
  CHECK(second->next_fire_at == At(120));

  std::unique_ptr<Store> other = b.Open();
  CHECK(*other->Triggers().Get(again.key) == *second);
  CHECK(other->Triggers().Get(TriggerKey{"org", "proj", "dev", "t1", "nope"}).status().code() == Code::kNotFound);

  auto names = [&](const TriggerScope& scope, int offset = 0, int limit = 0) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<Trigger>> list = other->Triggers().List(scope, offset, limit);
    REQUIRE(list.ok());
    for (const Trigger& t : *list) out.push_back(t.key.task_name + "/" + t.key.name);
    return out;
  };
  CHECK(names({"org"}) == std::vector<std::string>{"t1/every-minute", "t1/nightly", "t2/every-minute"});
  CHECK(names({"org", "proj", "dev", "t1"}) == std::vector<std::string>{"t1/every-minute", "t1/nightly"});
  CHECK(names({"org", "proj", "dev", "t1", "v2"}) == std::vector<std::string>{"t1/every-minute"});
  CHECK(names({"org", "other"}).empty());
  CHECK(names({"org"}, 1, 1) == std::vector<std::string>{"t1/nightly"});

  REQUIRE(repo.Delete(again.key).ok());
  CHECK(repo.Delete(again.key).code() == Code::kNotFound);
  CHECK(other->Triggers().Get(again.key).status().code() == Code::kNotFound);
}

TEST_CASE("triggers: due list, activation, fire recorded only at the revision read",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  TriggerRepository& repo = b.store->Triggers();
  REQUIRE(repo.Deploy(MakeTrigger("t", "late", 20)).ok());
  REQUIRE(repo.Deploy(MakeTrigger("t", "early", 10)).ok());
  REQUIRE(repo.Deploy(MakeTrigger("t", "off", std::nullopt)).ok());
  REQUIRE(repo.Deploy(MakeTrigger("t", "future", 100)).ok());

  auto due = [&](int64_t now_s) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<Trigger>> list = repo.ListDue(At(now_s), 10);
    REQUIRE(list.ok());
    for (const Trigger& t : *list) out.push_back(t.key.name);
    return out;
  };
  CHECK(due(5).empty());
  CHECK(due(10) == std::vector<std::string>{"early"});
  CHECK(due(30) == std::vector<std::string>{"early", "late"});  // oldest tick first

  // Deactivation takes a trigger off the schedule; activation puts it back with a new next tick.
  const TriggerKey late = MakeTrigger("t", "late", 0).key;
  REQUIRE(repo.SetActive(late, false, std::nullopt, At(25)).ok());
  CHECK(due(30) == std::vector<std::string>{"early"});
  absl::StatusOr<Trigger> off = repo.Get(late);
  CHECK_FALSE(off->active);
  CHECK(off->revision == 2);
  CHECK(off->updated_at == At(25));
  REQUIRE(repo.SetActive(late, true, At(40), At(35)).ok());
  CHECK(due(40) == std::vector<std::string>{"early", "late"});
  CHECK(repo.SetActive(TriggerKey{"org", "proj", "dev", "t", "nope"}, true, At(1), At(1)).code() == Code::kNotFound);

  // A fire read at revision 1 is recorded; one read before a redeploy (revision moved on) is not.
  const TriggerKey early = MakeTrigger("t", "early", 0).key;
  absl::StatusOr<bool> recorded = repo.RecordFired(early, 1, At(10), At(70));
  REQUIRE(recorded.ok());
  CHECK(*recorded);
  absl::StatusOr<Trigger> fired = repo.Get(early);
  CHECK(fired->triggered_at == At(10));
  CHECK(fired->next_fire_at == At(70));
  CHECK(*repo.RecordFired(late, 1, At(40), At(100)) == false);
  CHECK(repo.Get(late)->next_fire_at == At(40));
}

TEST_CASE("leases: one holder among replicas, renewal, takeover after expiry, release",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  std::unique_ptr<Store> other = b.Open();
  TriggerRepository& a = b.store->Triggers();
  TriggerRepository& c = other->Triggers();
  CHECK(*a.TryAcquireLease("sched", "A", At(0), At(15)));
  CHECK_FALSE(*c.TryAcquireLease("sched", "C", At(1), At(16)));
  CHECK(*a.TryAcquireLease("sched", "A", At(10), At(25)));  // renewed
  CHECK_FALSE(*c.TryAcquireLease("sched", "C", At(20), At(35)));
  CHECK(*c.TryAcquireLease("sched", "C", At(25), At(40)));  // A's lapsed
  CHECK_FALSE(*a.TryAcquireLease("sched", "A", At(26), At(41)));
  CHECK(*a.TryAcquireLease("other-lease", "A", At(26), At(41)));  // leases are independent
  REQUIRE(a.ReleaseLease("sched", "A").ok());                      // not A's: nothing happens
  CHECK_FALSE(*a.TryAcquireLease("sched", "A", At(27), At(42)));
  REQUIRE(c.ReleaseLease("sched", "C").ok());
  CHECK(*a.TryAcquireLease("sched", "A", At(28), At(43)));

  // Racing for a free lease: exactly one wins.
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 4; ++i) stores.push_back(b.Open());
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<bool> got =
          stores[static_cast<size_t>(i)]->Triggers().TryAcquireLease("race", "r" + std::to_string(i), At(0), At(15));
      if (got.ok() && *got) ++winners;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(winners.load() == 1);
}
