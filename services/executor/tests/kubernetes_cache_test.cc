// The task output cache on the Kubernetes runtime (kubernetes/task_action_cache.h) against the REAL runs-service
// binary (its CacheService on a temp SQLite file): what the controller writes into a TaskAction's status before its
// first Pod (a hit ends it without one; a miss or a reservation is written down before the Pod; a waiter looks
// again with backoff), what a success records, and what any other end gives back. The controller around it runs
// against a real API server in tests/e2e/kubernetes_cache.sh.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "flyteidl2/task/common.pb.h"
#include "flyteidl2/workflow/queue_service.pb.h"
#include "kubernetes/task_action_cache.h"
#include "runtime/attempt_layout.h"
#include "support/runs_cache_service.h"

namespace flyte::executor::k8s {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

struct Fixture {
  testing::RunsCacheService runs;
  flyte::testing::TempDir data{"flyte-k8s-cache-data"};
  TaskActionCache cache{runs.client.get(), TaskActionCacheOptions{data.path().string(), true, "org", 5000ms, 100ms}};

  // A TaskAction of run `run` whose cached task has key `key`.
  TaskActionView Action(const std::string& run, const std::string& key, bool serialize = false,
                        bool overwrite = false) const {
    flyteidl2::workflow::EnqueueActionRequest r;
    auto* id = r.mutable_action_id();
    id->mutable_run()->set_org("org");
    id->mutable_run()->set_project("proj");
    id->mutable_run()->set_domain("dev");
    id->mutable_run()->set_name(run);
    id->set_name("a0");
    auto* md = r.mutable_task()->mutable_spec()->mutable_task_template()->mutable_metadata();
    md->set_discoverable(true);
    md->set_discovery_version("v1");
    md->set_cache_serializable(serialize);
    r.mutable_task()->mutable_cache_key()->set_value(key);
    r.mutable_run_spec()->mutable_cache_config()->set_overwrite_cache(overwrite);
    TaskActionView ta;
    ta.name = run + "-a0";
    ta.uid = "uid-" + run;
    ta.action_type = "task";
    ta.enqueue_request = r.SerializeAsString();
    return ta;
  }

  // The attempt's outputs.pb holding o0=`value`, as the task's container leaves it on the data volume.
  std::string Outputs(const std::string& run, int64_t value) const {
    const fs::path dir = data.path() / "proj/dev" / run / "a0/1";
    fs::create_directories(dir);
    flyteidl2::task::Outputs out;
    auto* lit = out.add_literals();
    lit->set_name("o0");
    lit->mutable_value()->mutable_scalar()->mutable_primitive()->set_integer(value);
    std::ofstream(dir / "outputs.pb", std::ios::binary) << out.SerializeAsString();
    return ToFileUri(dir.string());
  }

  // Runs the decision and applies what it writes, as the controller does.
  TaskActionCache::Decision Decide(TaskActionView& ta) {
    std::optional<TaskActionCache::Cached> c = cache.Identity(ta);
    REQUIRE(c.has_value());
    TaskActionCache::Decision d = cache.BeforeFirstPod(ta, *c, kNow);
    if (d.write) ta.status = d.next;
    return d;
  }

  // The Pod of `ta` succeeded with o0=`value`: what its SUCCEEDED records.
  std::string Succeed(TaskActionView& ta, int64_t value) {
    ta.status.attempt = 1;
    return cache.Record(ta, *cache.Identity(ta), Outputs(ta.name.substr(0, ta.name.size() - 3), value), ta.status);
  }
};

int64_t ValueAt(const std::string& output_uri) {
  flyteidl2::task::Outputs out;
  std::ifstream in(*LocalPathFromUri(output_uri + "/outputs.pb"), std::ios::binary);
  REQUIRE(out.ParseFromIstream(&in));
  return out.literals(0).value().scalar().primitive().integer();
}

}  // namespace

TEST_CASE("kubernetes cache: a miss is written down before the Pod, a success records, the next one hits",
          "[executor][kubernetes_cache]") {
  Fixture f;
  TaskActionView first = f.Action("r1", "k1");
  TaskActionCache::Decision d = f.Decide(first);
  CHECK(d.write);
  CHECK(d.run);
  CHECK(first.status.cache_status == CacheStatus::kMiss);
  CHECK(first.status.cache_reservation.empty());
  CHECK(first.status.phase.empty());  // nothing reported yet: the Pod's INITIALIZING is the first transition

  // Reconciled again (or by a new leader) before the Pod was seen: decided, no second lookup, no write.
  d = f.Decide(first);
  CHECK_FALSE(d.write);
  CHECK(d.run);

  std::string event = f.Succeed(first, 41);
  CHECK(first.status.cache_status == CacheStatus::kPopulated);
  CHECK(event.find("outputs recorded in the task cache (key k1, version v1)") != std::string::npos);
  // A repeated record (its status write failed and the reconcile came back) still reports POPULATED.
  event = f.cache.Record(first, *f.cache.Identity(first), f.Outputs("r1", 41), first.status);
  CHECK(event.find("outputs recorded in the task cache") != std::string::npos);
  CHECK(first.status.cache_status == CacheStatus::kPopulated);

  TaskActionView second = f.Action("r2", "k1");
  d = f.Decide(second);
  CHECK(d.write);
  CHECK_FALSE(d.run);  // no Pod
  CHECK(second.status.phase == kube::kPhaseSucceeded);
  CHECK(second.status.attempt == 1);
  CHECK(second.status.completed_at == kNow);
  CHECK(second.status.cache_status == CacheStatus::kHit);
  CHECK(second.status.outputs_uri.find("/.cache/") != std::string::npos);
  CHECK(ValueAt(second.status.outputs_uri) == 41);
  REQUIRE(second.status.LastOf(1) != nullptr);
  CHECK(second.status.LastOf(1)->message.find("outputs taken from the task cache") != std::string::npos);

  // The status fields survive the round trip through the TaskAction (a restart reads them back).
  TaskActionStatus back = TaskActionStatus::FromJson(second.status.ToJson());
  CHECK(back.cache_status == CacheStatus::kHit);
  CHECK(back.outputs_uri == second.status.outputs_uri);
}

TEST_CASE("kubernetes cache: overwrite runs despite an entry and replaces it", "[executor][kubernetes_cache]") {
  Fixture f;
  TaskActionView first = f.Action("o1", "ko");
  f.Decide(first);
  f.Succeed(first, 1);
  TaskActionView over = f.Action("o2", "ko", false, /*overwrite=*/true);
  TaskActionCache::Decision d = f.Decide(over);
  CHECK(d.run);
  CHECK(over.status.cache_status == CacheStatus::kMiss);
  f.Succeed(over, 2);
  CHECK(over.status.cache_status == CacheStatus::kPopulated);
  TaskActionView next = f.Action("o3", "ko");
  f.Decide(next);
  CHECK(next.status.cache_status == CacheStatus::kHit);
  CHECK(ValueAt(next.status.outputs_uri) == 2);
}

TEST_CASE("kubernetes cache: serialize holds the reservation for one, the other waits with backoff and hits",
          "[executor][kubernetes_cache]") {
  Fixture f;
  TaskActionView a = f.Action("s1", "ks", true), b = f.Action("s2", "ks", true);
  TaskActionCache::Decision da = f.Decide(a);
  CHECK(da.run);
  CHECK(a.status.cache_reservation == kCacheHeld);

  TaskActionCache::Decision db = f.Decide(b);
  CHECK_FALSE(db.run);
  CHECK(db.write);  // INITIALIZING, waiting: reported once
  CHECK(b.status.cache_reservation == kCacheWaiting);
  CHECK(b.status.phase == kube::kPhaseInitializing);
  CHECK(b.status.LastOf(1)->message.find("waiting for org/proj/dev/s1/a0") != std::string::npos);
  REQUIRE(db.look_again.has_value());
  CHECK(*db.look_again == 100ms);
  db = f.Decide(b);
  CHECK_FALSE(db.write);  // still waiting: nothing new to write
  CHECK(*db.look_again == 200ms);
  for (int i = 0; i < 5; ++i) db = f.Decide(b);
  CHECK(*db.look_again == 800ms);  // capped at 8x

  // The holder extends while its Pod runs (at once after a restart, then every heartbeat).
  CHECK(f.cache.KeepReservation(a, *f.cache.Identity(a)) <= 5000ms);
  f.Succeed(a, 7);
  CHECK(a.status.cache_status == CacheStatus::kPopulated);
  CHECK(a.status.cache_reservation.empty());  // released

  db = f.Decide(b);
  CHECK(b.status.phase == kube::kPhaseSucceeded);
  CHECK(b.status.cache_status == CacheStatus::kHit);
  CHECK(b.status.cache_reservation.empty());
  CHECK(ValueAt(b.status.outputs_uri) == 7);
}

TEST_CASE("kubernetes cache: a holder that ends otherwise gives the reservation back at once",
          "[executor][kubernetes_cache]") {
  Fixture f;
  TaskActionView a = f.Action("f1", "kf", true), b = f.Action("f2", "kf", true);
  f.Decide(a);
  REQUIRE(a.status.cache_reservation == kCacheHeld);
  f.Decide(b);
  REQUIRE(b.status.cache_reservation == kCacheWaiting);
  f.cache.Release(a, *f.cache.Identity(a), a.status);  // its Pod failed for good
  CHECK(a.status.cache_reservation.empty());
  TaskActionCache::Decision d = f.Decide(b);
  CHECK(d.run);
  CHECK(b.status.cache_reservation == kCacheHeld);
}

TEST_CASE("kubernetes cache: does not apply without a data volume shared with the Pods",
          "[executor][kubernetes_cache]") {
  Fixture f;
  TaskActionCache no_claim(f.runs.client.get(), TaskActionCacheOptions{f.data.path().string(), false, "org"});
  CHECK(no_claim.DisabledReason().find("dataVolumeClaim") != std::string::npos);
  CHECK_FALSE(no_claim.Identity(f.Action("n1", "kn")).has_value());
  TaskActionCache not_mounted(f.runs.client.get(),
                              TaskActionCacheOptions{(f.data.path() / "absent").string(), true, "org"});
  CHECK(not_mounted.DisabledReason().find("not mounted") != std::string::npos);
  TaskActionCache no_service(nullptr, TaskActionCacheOptions{f.data.path().string(), true, "org"});
  CHECK_FALSE(no_service.DisabledReason().empty());
  CHECK(f.cache.DisabledReason().empty());
  CHECK(f.cache.Identity(f.Action("n2", "kn")).has_value());
}

}  // namespace flyte::executor::k8s
