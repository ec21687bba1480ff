// Against a real kube-apiserver ($FLYTE_TEST_KUBECONFIG; scripts/k8s-testenv.sh up).
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "flyte/kube/leader_election.h"
#include "flyte/kube/testing/test_cluster.h"

using namespace flyte::kube;
using namespace std::chrono_literals;
using flyte::kube::testing::AdminClient;
using flyte::kube::testing::Eventually;
using flyte::kube::testing::TestNamespace;

namespace {
LeaderElectionConfig Config(const std::string& ns, const std::string& id) {
  LeaderElectionConfig c;
  c.ns = ns;
  c.name = "exec-lease";
  c.identity = id;
  c.lease_duration = 3000ms;
  c.renew_deadline = 2000ms;
  c.retry_period = 300ms;
  return c;
}
}  // namespace

TEST_CASE("one of two candidates leads, and a crashed leader is replaced once the lease lapses", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "le");
  std::atomic<int> a_started{0}, b_started{0}, a_stopped{0};
  LeaderElector a(*client, Config(ns.name(), "a"), {[&] { ++a_started; }, [&] { ++a_stopped; }});
  a.Start();
  REQUIRE(Eventually([&] { return a.is_leader(); }));
  LeaderElector b(*client, Config(ns.name(), "b"), {[&] { ++b_started; }, nullptr});
  b.Start();
  // b sees a renewing and stays a candidate, and never both lead at once.
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE((a.is_leader() && b.is_leader()));
    std::this_thread::sleep_for(100ms);
  }
  CHECK_FALSE(b.is_leader());
  CHECK(b.observed_holder() == "a");

  // a "crashes": it stops renewing without releasing. b takes over once the record is 3 s old.
  auto t0 = std::chrono::steady_clock::now();
  a.Stop(/*release=*/false);
  CHECK(a_stopped == 1);
  REQUIRE(Eventually([&] { return b.is_leader(); }, 10000));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 2500ms);
  CHECK(took < 3000ms + 1500ms);
  CHECK(b_started == 1);

  auto lease = client->Get(kLeases, ns.name(), "exec-lease");
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == "b");
  CHECK((*lease)["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("a leader that stops cleanly releases the lease at once", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "le2");
  LeaderElector a(*client, Config(ns.name(), "a"), {});
  a.Start();
  REQUIRE(Eventually([&] { return a.is_leader(); }));
  LeaderElector b(*client, Config(ns.name(), "b"), {});
  b.Start();
  std::this_thread::sleep_for(500ms);
  auto t0 = std::chrono::steady_clock::now();
  a.Stop();
  REQUIRE(Eventually([&] { return b.is_leader(); }, 10000));
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
}
