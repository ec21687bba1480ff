// KubernetesActionQueue against a real kube-apiserver ($FLYTE_TEST_KUBECONFIG; scripts/k8s-testenv.sh up): the
// same cases as the SQL backends (action_queue_cases.h), then what only TaskActions have.
#include <catch2/catch.hpp>

#include "action_queue_cases.h"
#include "flyte/kube/task_action.h"
#include "flyte/kube/testing/test_cluster.h"
#include "repository/kubernetes_action_queue.h"

using namespace flyte::queue;
namespace kube = flyte::kube;

namespace {

struct Cluster {
  Cluster() : admin(kube::testing::AdminClient()) { kube::testing::EnsureTaskActionCrd(*admin); }
  std::unique_ptr<kube::Client> admin;
};

Cluster& TheCluster() {
  static Cluster c;
  return c;
}

struct Fixture {
  Fixture() : ns(*TheCluster().admin, "queue"), queue(*TheCluster().admin, ns.name()) {}
  kube::testing::TestNamespace ns;
  KubernetesActionQueue queue;
};

}  // namespace

TEST_CASE("kubernetes action queue: enqueue is idempotent", "[kubernetes][queue]") {
  Fixture f;
  cases::EnqueueIsIdempotent(f.queue);
}

TEST_CASE("kubernetes action queue: a batch enqueue answers each entry", "[kubernetes][queue]") {
  Fixture f;
  cases::BatchEnqueueAnswersEachEntry(f.queue);
}

TEST_CASE("kubernetes action queue: abort action covers its descendants only", "[kubernetes][queue]") {
  Fixture f;
  cases::AbortActionCoversDescendantsOnly(f.queue);
}

TEST_CASE("kubernetes action queue: abort run covers that run only", "[kubernetes][queue]") {
  Fixture f;
  cases::AbortRunCoversTheRunOnly(f.queue);
}

TEST_CASE("kubernetes action queue: depth counts ready entries", "[kubernetes][queue]") {
  Fixture f;
  cases::DepthCountsReadyEntries(f.queue);
}

TEST_CASE("a TaskAction carries labels, the finalizer, its parent as owner and the request", "[kubernetes][queue]") {
  Fixture f;
  kube::Client& admin = *TheCluster().admin;
  REQUIRE(f.queue.Enqueue(cases::Entry("a0"), cases::kT0).ok());
  REQUIRE(f.queue.Enqueue(cases::Entry("a1", "r1", "a0"), cases::kT0).ok());
  auto root = admin.Get(kube::kTaskActions, f.ns.name(), "r1-a0");
  auto child = admin.Get(kube::kTaskActions, f.ns.name(), "r1-a1");
  REQUIRE(root.ok());
  REQUIRE(child.ok());
  CHECK((*root)["metadata"]["labels"][kube::kLabelIsRoot] == "true");
  CHECK((*root)["metadata"]["labels"][kube::kLabelRun] == "r1");
  CHECK((*root)["metadata"]["finalizers"][0] == kube::kExecutorFinalizer);
  CHECK((*root)["spec"]["taskType"] == "python");
  CHECK_FALSE((*root)["metadata"].contains("ownerReferences"));
  CHECK((*child)["metadata"]["ownerReferences"][0]["uid"] == (*root)["metadata"]["uid"]);
  CHECK((*child)["metadata"]["labels"][kube::kLabelParent] == "a0");
  auto spec = kube::ParseTaskActionSpec(*child);
  REQUIRE(spec.ok());
  CHECK(spec->enqueue_request == cases::Entry("a1").payload);
}

TEST_CASE("the same run and action names in another project get the fallback name", "[kubernetes][queue]") {
  Fixture f;
  kube::Client& admin = *TheCluster().admin;
  REQUIRE(f.queue.Enqueue(cases::Entry("a0"), cases::kT0).ok());
  NewEntry other = cases::Entry("a0");
  other.key.run.project = "proj2";
  auto created = f.queue.Enqueue(other, cases::kT0);
  REQUIRE(created.ok());
  CHECK(*created);
  auto again = f.queue.Enqueue(other, cases::kT0);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  kube::ActionRef ref{"org", "proj2", "dev", "r1", "a0"};
  CHECK(admin.Get(kube::kTaskActions, f.ns.name(), kube::TaskActionFallbackName(ref)).ok());
  auto got = f.queue.Get(other.key);
  REQUIRE(got.ok());
  CHECK(got->key.run.project == "proj2");
  // Aborting one project's run leaves the other's alone.
  REQUIRE(f.queue.AbortRun(other.key.run, "x", cases::kT0).ok());
  CHECK(cases::Eventually([&] { return cases::AbortRequested(f.queue, other.key); }));
  CHECK_FALSE(cases::AbortRequested(f.queue, cases::Key("a0")));
}
