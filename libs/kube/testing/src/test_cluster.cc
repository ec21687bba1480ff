#include "flyte/kube/testing/test_cluster.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "flyte/kube/task_action.h"
#include "flyte/kube/yaml_json.h"

#ifndef FLYTE_SOURCE_DIR
#error FLYTE_SOURCE_DIR must point at the repository root
#endif

namespace flyte::kube::testing {

const std::string& AdminKubeconfigPath() {
  static const std::string path = [] {
    const char* env = std::getenv("FLYTE_TEST_KUBECONFIG");
    if (env == nullptr || *env == '\0') {
      fprintf(stderr,
              "FLYTE_TEST_KUBECONFIG is not set: these tests need a real kube-apiserver. Start one with\n"
              "  export FLYTE_TEST_KUBECONFIG=$(scripts/k8s-testenv.sh up | tail -1)\n");
      std::abort();
    }
    return std::string(env);
  }();
  return path;
}

ClusterConfig AdminConfig() {
  absl::StatusOr<ClusterConfig> cfg = LoadKubeconfig(AdminKubeconfigPath());
  if (!cfg.ok()) {
    fprintf(stderr, "cannot load %s: %s\n", AdminKubeconfigPath().c_str(), cfg.status().ToString().c_str());
    std::abort();
  }
  return *cfg;
}

std::unique_ptr<Client> AdminClient() {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(AdminConfig());
  if (!c.ok()) std::abort();
  return std::move(*c);
}

const std::string& UnrelatedCaPem() {
  static const std::string pem =
      "-----BEGIN CERTIFICATE-----\n"
      "MIIDHTCCAgWgAwIBAgIUEXDu6vVKds5GLtwaJ0jaVcTvTuEwDQYJKoZIhvcNAQEL\n"
      "BQAwHTEbMBkGA1UEAwwSbm90LXRoZS1jbHVzdGVyLWNhMCAXDTI2MTIwNjA1Mzk1\n"
      "OVoYDzIxMjYxMTEyMDUzOTU5WjAdMRswGQYDVQQDDBJub3QtdGhlLWNsdXN0ZXIt\n"
      "Y2EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDYqbbNDfGE1goblL7c\n"
      "TEZqGrCBxbuhUX1amg+bp8VKTIadhz1fQYcegkWMSkiGHUkngWUtonp2fETbUVv8\n"
      "JqAIA9DePLvdTJc7FHnPwzJcIEH9zX0li5YwU4XTUo7iluYeL3+p7Lr0mXbe8o5g\n"
      "NwaHB6buPjZZ2HzcIhg+gZ6wvqh1RlLknew6fNZGZADtrVwi4v+xbJfPCqw2ko3o\n"
      "IaurcN2FXbwnpO0GZ2o4KDL1vPDwMCIXTg8DXDAT1wQG2HBj3I+2/saN6QluRcvq\n"
      "IOkanhVoHPC9Wgp6NwZrkBuRAXDkAPOfjLFqlqHlSx1ATtr5N1dcrfdbtFLfn2FF\n"
      "kuPhAgMBAAGjUzBRMB0GA1UdDgQWBBThkn/yrU6BZSD/OTAw9269N1+sCDAfBgNV\n"
      "HSMEGDAWgBThkn/yrU6BZSD/OTAw9269N1+sCDAPBgNVHRMBAf8EBTADAQH/MA0G\n"
      "CSqGSIb3DQEBCwUAA4IBAQBNOp2eLDe1yVD2u16rESpYBncXAfY9/1QFEkZdqQpg\n"
      "eSIDpcc6uOfwMf/XPUfRMIGBevBCDKGatzplrA1xBdeTHLPmzgAh+zXQQI1vIl4c\n"
      "MOT+F2lS7QFE/J6ckFRaaPZ4qnrtvRYbGGDowf8qqlNS9QH5XwXVivcjcuIORkPi\n"
      "05F68BLtcI/lX+ys8CHoix6HNBm/CcdS1fBmg8NEZTfOZRv3C5o8yLhnJjsc7bSC\n"
      "csDPJ6JVKGG05vNT55Lqp93gS7exClSbBuiD49tpeIgIfRQ/sLUyWtVUFtO9+92k\n"
      "HTf5vdoFP4uamPrFpamnwMBm6igGCs7tLEXndslF5Myk\n"
      "-----END CERTIFICATE-----\n";
  return pem;
}

bool Eventually(const std::function<bool()>& predicate, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void EnsureTaskActionCrd(Client& admin) {
  std::ifstream in(std::string(FLYTE_SOURCE_DIR) + "/deploy/crds/flyte.org_taskactions.yaml");
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Json> crd = YamlTextToJson(text.str());
  if (!crd.ok()) std::abort();
  absl::StatusOr<Json> created = admin.Create(kCustomResourceDefinitions, "", *crd);
  if (!created.ok() && !absl::IsAlreadyExists(created.status())) {
    fprintf(stderr, "cannot create the TaskAction CRD: %s\n", created.status().ToString().c_str());
    std::abort();
  }
  bool established = Eventually([&] {
    absl::StatusOr<Json> got = admin.Get(kCustomResourceDefinitions, "", "taskactions.flyte.org");
    if (!got.ok()) return false;
    for (const Json& c : (*got)["status"].value("conditions", Json::array())) {
      if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
    }
    return false;
  }, 30000);
  if (!established) {
    fprintf(stderr, "the TaskAction CRD did not become Established\n");
    std::abort();
  }
  WaitForGarbageCollectorToKnowTaskActions(admin);
}

// kube-controller-manager's garbage collector learns new resource types by rediscovery (every 30 s), and until it
// does a foreground delete of a TaskAction leaves its children alone. Tests that abort a parent rely on the garbage
// collector, so a freshly created CRD is probed: a parent deleted in the foreground is gone only once the collector
// has dealt with its child.
void WaitForGarbageCollectorToKnowTaskActions(Client& admin) {
  static bool known = false;
  if (known) return;
  std::random_device rd;
  const std::string suffix = std::to_string(rd() % 1000000000);
  auto probe = [&](const std::string& name, const Json* owner) {
    Json ta = {{"apiVersion", "flyte.org/v1"},
               {"kind", "TaskAction"},
               {"metadata", {{"name", name}, {"labels", {{"flyte.test/gc-probe", "true"}}}}},
               {"spec",
                {{"org", "probe"}, {"project", "probe"}, {"domain", "probe"}, {"runName", "probe"},
                 {"actionName", name}, {"actionType", "task"}, {"enqueueRequest", "cHJvYmU="}}}};
    if (owner != nullptr) {
      ta["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "flyte.org/v1"},
                                                        {"kind", "TaskAction"},
                                                        {"name", (*owner)["metadata"]["name"]},
                                                        {"uid", (*owner)["metadata"]["uid"]},
                                                        {"blockOwnerDeletion", true}}});
    }
    return admin.Create(kTaskActions, "default", ta);
  };
  absl::StatusOr<Json> parent = probe("gc-probe-" + suffix, nullptr);
  absl::StatusOr<Json> child = parent.ok() ? probe("gc-probe-" + suffix + "-c", &*parent) : parent;
  if (!child.ok()) {
    fprintf(stderr, "cannot create the garbage-collector probe: %s\n", child.status().ToString().c_str());
    std::abort();
  }
  DeleteOptions foreground;
  foreground.propagation_policy = "Foreground";
  (void)admin.Delete(kTaskActions, "default", "gc-probe-" + suffix, foreground);
  known = Eventually([&] {
    return absl::IsNotFound(admin.Get(kTaskActions, "default", "gc-probe-" + suffix).status());
  }, 120000);
  if (!known) {
    fprintf(stderr, "kube-controller-manager's garbage collector never dealt with TaskActions\n");
    std::abort();
  }
}

namespace {
const Resource kNamespaces{"", "v1", "namespaces"};
}

TestNamespace::TestNamespace(Client& admin, const std::string& prefix) : admin_(admin) {
  std::random_device rd;
  name_ = prefix + "-" + std::to_string(rd() % 1000000000);
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}};
  absl::StatusOr<Json> created = admin_.Create(kNamespaces, "", ns);
  if (!created.ok()) {
    fprintf(stderr, "cannot create namespace %s: %s\n", name_.c_str(), created.status().ToString().c_str());
    std::abort();
  }
  // Pod admission wants the namespace's default ServiceAccount, which kube-controller-manager creates.
  Eventually([&] { return admin_.Get(Resource{"", "v1", "serviceaccounts"}, name_, "default").ok(); }, 30000);
}

TestNamespace::~TestNamespace() {
  // TaskActions keep the executor's finalizer until an executor handles them; no executor may be left to do so.
  const Resource task_actions{"flyte.org", "v1", "taskactions"};
  absl::StatusOr<ListResult> left = admin_.List(task_actions, name_);
  if (left.ok()) {
    for (const Json& ta : left->items) {
      (void)admin_.Patch(task_actions, name_, ta["metadata"].value("name", ""),
                         Json{{"metadata", {{"finalizers", nullptr}}}}, PatchType::kMerge);
    }
  }
  (void)admin_.Delete(kNamespaces, "", name_);
}

}  // namespace flyte::kube::testing
