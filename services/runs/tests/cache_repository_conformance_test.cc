// Conformance suite of the CacheRepository port (CacheService's entries and reservations), and the cache use cases
// on top of it: every case runs against SQLite and PostgreSQL. Two Stores on one database stand for two replicas.
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "service/cache_use_cases.h"
#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;
using Code = absl::StatusCode;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

CachedOutputRecord Entry(const std::string& scope, const std::string& key, const std::string& uri, int64_t at_s) {
  CachedOutputRecord e;
  e.id = CacheEntryKey{scope, key};
  e.output_uri = uri;
  e.output_literals = std::string("\x0a\x00\xff", 3);  // bytes, verbatim
  e.metadata = "meta-" + key;
  e.created_at = e.updated_at = At(at_s);
  return e;
}

CacheReservation Wanted(const std::string& key, const std::string& owner, int64_t expires_s) {
  return CacheReservation{CacheEntryKey{"o/p/d", key}, owner, milliseconds(1000), At(expires_s)};
}

}  // namespace

TEST_CASE("cache entries: put, get, overwrite, delete, scopes apart, seen by another replica",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  CacheRepository& cache = b.store->Cache();
  REQUIRE(cache.Put(Entry("o/p/d", "k1", "file:///c/1", 1), false).ok());
  REQUIRE(cache.Put(Entry("o/q/d", "k1", "file:///c/other-scope", 1), false).ok());

  std::unique_ptr<Store> other = b.Open();
  absl::StatusOr<CachedOutputRecord> got = other->Cache().Get(CacheEntryKey{"o/p/d", "k1"});
  REQUIRE(got.ok());
  CHECK(*got == Entry("o/p/d", "k1", "file:///c/1", 1));
  CHECK(other->Cache().Get(CacheEntryKey{"o/q/d", "k1"})->output_uri == "file:///c/other-scope");
  CHECK(other->Cache().Get(CacheEntryKey{"o/p/d", "k2"}).status().code() == Code::kNotFound);
  CHECK(other->Cache().Get(CacheEntryKey{"", "k1"}).status().code() == Code::kNotFound);

  // Without overwrite an existing entry stays; with it, it is replaced and keeps its creation time.
  absl::Status again = cache.Put(Entry("o/p/d", "k1", "file:///c/2", 5), false);
  CHECK(again.code() == Code::kAlreadyExists);
  CHECK(std::string(again.message()).find("k1") != std::string::npos);
  CHECK(cache.Get(CacheEntryKey{"o/p/d", "k1"})->output_uri == "file:///c/1");
  REQUIRE(other->Cache().Put(Entry("o/p/d", "k1", "file:///c/2", 5), true).ok());
  got = cache.Get(CacheEntryKey{"o/p/d", "k1"});
  REQUIRE(got.ok());
  CHECK(got->output_uri == "file:///c/2");
  CHECK(got->created_at == At(1));
  CHECK(got->updated_at == At(5));

  REQUIRE(cache.Delete(CacheEntryKey{"o/p/d", "k1"}).ok());
  CHECK(other->Cache().Get(CacheEntryKey{"o/p/d", "k1"}).status().code() == Code::kNotFound);
  CHECK(cache.Delete(CacheEntryKey{"o/p/d", "k1"}).code() == Code::kNotFound);
  CHECK(cache.Get(CacheEntryKey{"o/q/d", "k1"}).ok());  // the other scope's entry is untouched
}

TEST_CASE("cache reservations: one holder until it releases or expires", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  CacheRepository& cache = b.store->Cache();
  std::unique_ptr<Store> other = b.Open();

  absl::StatusOr<CacheReservation> r = cache.GetOrExtendReservation(Wanted("k", "alice", 30), At(0));
  REQUIRE(r.ok());
  CHECK(*r == Wanted("k", "alice", 30));
  // Another owner gets the holder's reservation back, unchanged.
  r = other->Cache().GetOrExtendReservation(Wanted("k", "bob", 40), At(10));
  REQUIRE(r.ok());
  CHECK(r->owner_id == "alice");
  CHECK(r->expires_at == At(30));
  // The holder extends it.
  r = cache.GetOrExtendReservation(Wanted("k", "alice", 50), At(20));
  REQUIRE(r.ok());
  CHECK(r->expires_at == At(50));
  // Releasing someone else's reservation is refused; the holder's release frees it for the next owner.
  absl::Status not_mine = other->Cache().ReleaseReservation(CacheEntryKey{"o/p/d", "k"}, "bob");
  CHECK(not_mine.code() == Code::kFailedPrecondition);
  CHECK(std::string(not_mine.message()).find("alice") != std::string::npos);
  REQUIRE(cache.ReleaseReservation(CacheEntryKey{"o/p/d", "k"}, "alice").ok());
  CHECK(cache.ReleaseReservation(CacheEntryKey{"o/p/d", "k"}, "alice").ok());  // none: fine
  r = other->Cache().GetOrExtendReservation(Wanted("k", "bob", 60), At(21));
  REQUIRE(r.ok());
  CHECK(r->owner_id == "bob");
  // A holder that stopped heartbeating loses it once it expired.
  r = cache.GetOrExtendReservation(Wanted("k", "carol", 100), At(59));
  CHECK(r->owner_id == "bob");
  r = cache.GetOrExtendReservation(Wanted("k", "carol", 100), At(60));
  CHECK(r->owner_id == "carol");
  CHECK(r->expires_at == At(100));
}

TEST_CASE("cache reservations: of many concurrent callers exactly one holds it", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < 4; ++i) replicas.push_back(b.Open());
  std::vector<std::string> holders(replicas.size());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replicas.size(); ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<CacheReservation> r =
          replicas[i]->Cache().GetOrExtendReservation(Wanted("hot", "owner-" + std::to_string(i), 30), At(0));
      if (!r.ok()) {
        ++failures;
        return;
      }
      holders[i] = r->owner_id;
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures == 0);
  CHECK(std::set<std::string>(holders.begin(), holders.end()).size() == 1);
}

TEST_CASE("cache use cases: validation names the field, reservations expire after three heartbeats",
          "[service][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  flyte::common::FakeClock clock;
  CacheUseCases cache(b.store->Cache(), clock, CacheOptions{milliseconds(2000), milliseconds(60000)});

  absl::Status s = cache.Put(CachedOutputRecord{}, false);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() == "key is required");
  CachedOutputRecord empty;
  empty.id = CacheEntryKey{"", "k"};
  s = cache.Put(empty, false);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(std::string(s.message()).find("output_uri") != std::string::npos);
  CHECK(cache.GetOrExtendReservation(CacheEntryKey{"", "k"}, "", milliseconds(1)).status().message() ==
        "owner_id is required");
  CHECK(cache.GetOrExtendReservation(CacheEntryKey{"", "k"}, "a", milliseconds(-1)).status().code() ==
        Code::kInvalidArgument);
  CHECK(cache.Get(CacheEntryKey{"", ""}).status().code() == Code::kInvalidArgument);

  // Put stamps the clock's time.
  CachedOutputRecord e;
  e.id = CacheEntryKey{"", "k"};
  e.output_uri = "file:///x";
  REQUIRE(cache.Put(e, false).ok());
  CHECK(cache.Get(e.id)->created_at == clock.Now());

  // No heartbeat given: the default; expiry three heartbeats out; a longer one is clamped.
  absl::StatusOr<CacheReservation> r = cache.GetOrExtendReservation(e.id, "a", milliseconds(0));
  REQUIRE(r.ok());
  CHECK(r->heartbeat_interval == milliseconds(2000));
  CHECK(r->expires_at == clock.Now() + seconds(6));
  clock.Advance(seconds(5));
  CHECK(cache.GetOrExtendReservation(e.id, "b", milliseconds(0))->owner_id == "a");
  clock.Advance(seconds(1));
  r = cache.GetOrExtendReservation(e.id, "b", std::chrono::hours(1));
  REQUIRE(r.ok());
  CHECK(r->owner_id == "b");
  CHECK(r->heartbeat_interval == milliseconds(60000));
}

TEST_CASE("an action keeps the cache status its latest event reported", "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  ActionRepository& actions = b.actions();
  REQUIRE(actions.CreateRun(MakeRun("hit")).ok());
  REQUIRE(actions.CreateRun(MakeRun("batch")).ok());
  CHECK(actions.Get(KeyOf("hit"))->cache_status == 0);  // CACHE_DISABLED until reported

  ActionEvent hit = MakeEvent(1, Phase::kSucceeded, 5);
  hit.cache_status = 2;  // CACHE_HIT
  REQUIRE(actions.ApplyEvent(KeyOf("hit"), hit).ok());
  CHECK(b.Open()->Actions().Get(KeyOf("hit"))->cache_status == 2);

  // Through the batched path (one statement per kind of row on PostgreSQL): MISS while running, POPULATED at the
  // end; an event that reports none keeps what was there.
  ActionEvent running = MakeEvent(1, Phase::kRunning, 6);
  running.cache_status = 1;
  ActionEvent no_status = MakeEvent(1, Phase::kRunning, 7);
  ActionEvent done = MakeEvent(1, Phase::kSucceeded, 8);
  done.cache_status = 3;
  std::vector<absl::StatusOr<Action>> out = actions.ApplyEvents({{KeyOf("batch"), running}, {KeyOf("batch"), no_status}});
  REQUIRE(out.size() == 2);
  REQUIRE(out[1].ok());
  CHECK(b.Open()->Actions().Get(KeyOf("batch"))->cache_status == 1);
  out = actions.ApplyEvents({{KeyOf("batch"), done}});
  REQUIRE(out[0].ok());
  CHECK(out[0]->cache_status == 3);
  CHECK(b.Open()->Actions().Get(KeyOf("batch"))->cache_status == 3);
}
