// The attempt's Secret against a real kube-apiserver ($FLYTE_TEST_KUBECONFIG; scripts/k8s-testenv.sh up): made
// once, adopted when a repeated reconcile (or a restarted executor) finds its own, replaced when an earlier
// TaskAction of the same name left one, deleted idempotently.
#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "flyte/kube/testing/test_cluster.h"
#include "kubernetes/pod_secrets.h"

using namespace flyte::executor;
using namespace flyte::executor::k8s;
namespace kube = flyte::kube;
using Json = nlohmann::json;

namespace {

Json PodOwnedBy(const std::string& ns, const std::string& uid) {
  return Json{{"metadata",
               {{"name", "r1-a0-1"},
                {"namespace", ns},
                {"labels", {{"flyte.org/run", "r1"}, {"team", "not-copied"}}},
                {"ownerReferences", Json::array({Json{{"apiVersion", "v1"},
                                                      {"kind", "ConfigMap"},
                                                      {"name", "owner"},
                                                      {"uid", uid}}})}}}};
}

}  // namespace

TEST_CASE("the attempt's Secret is made once, adopted by its owner, replaced when left by another",
          "[kubernetes][executor]") {
  std::unique_ptr<kube::Client> admin = kube::testing::AdminClient();
  kube::testing::TestNamespace ns(*admin, "secrets");
  // A real owner, so the ownerReference is valid (garbage collection would delete the Secret of a missing one).
  absl::StatusOr<Json> owner = admin->Create(kube::kConfigMaps, ns.name(),
                                             Json{{"metadata", {{"name", "owner"}}}, {"data", Json::object()}});
  REQUIRE(owner.ok());
  const std::string uid = (*owner)["metadata"]["uid"];
  std::vector<TaskSecret> secrets = {{"db-pass", "DB_PASS", "v1"}, {"tls.key", "", "f1"}};

  Json secret = BuildAttemptSecret(secrets, PodOwnedBy(ns.name(), uid));
  REQUIRE(EnsureAttemptSecret(*admin, secret, uid).ok());
  absl::StatusOr<Json> got = admin->Get(kube::kSecrets, ns.name(), "r1-a0-1-secrets");
  REQUIRE(got.ok());
  std::string value;
  REQUIRE(absl::Base64Unescape((*got)["data"]["db-pass"].get<std::string>(), &value));
  CHECK(value == "v1");
  CHECK((*got)["type"] == "Opaque");
  CHECK((*got)["immutable"] == true);
  CHECK((*got)["metadata"]["labels"]["flyte.org/run"] == "r1");
  CHECK_FALSE((*got)["metadata"]["labels"].contains("team"));
  const std::string first_uid = (*got)["metadata"]["uid"];

  // A repeated reconcile: the same Secret, kept.
  REQUIRE(EnsureAttemptSecret(*admin, secret, uid).ok());
  CHECK((*admin->Get(kube::kSecrets, ns.name(), "r1-a0-1-secrets"))["metadata"]["uid"] == first_uid);

  // One left by an earlier owner of the same name: deleted, and the caller told to come again.
  Json other = BuildAttemptSecret(secrets, PodOwnedBy(ns.name(), "another-uid"));
  absl::Status stale = EnsureAttemptSecret(*admin, secret, "another-uid");
  CHECK(stale.code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(stale.message()).find("left by an earlier TaskAction") != std::string::npos);
  CHECK(std::string(stale.message()).find("v1") == std::string::npos);
  CHECK(absl::IsNotFound(admin->Get(kube::kSecrets, ns.name(), "r1-a0-1-secrets").status()));
  REQUIRE(EnsureAttemptSecret(*admin, other, "another-uid").ok());

  REQUIRE(DeleteAttemptSecret(*admin, ns.name(), "r1-a0-1").ok());
  CHECK(absl::IsNotFound(admin->Get(kube::kSecrets, ns.name(), "r1-a0-1-secrets").status()));
  CHECK(DeleteAttemptSecret(*admin, ns.name(), "r1-a0-1").ok());  // already gone: fine
}
