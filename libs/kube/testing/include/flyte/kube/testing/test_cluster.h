#pragma once
// For tests against a real kube-apiserver (scripts/k8s-testenv.sh up): the admin configuration from
// $FLYTE_TEST_KUBECONFIG, a throwaway namespace per test, and the TaskAction CRD applied from deploy/crds.
// A test binary that needs the cluster fails (it does not skip) when the variable is not set.
// Not thread-safe; one TestNamespace per test.
#include <memory>
#include <string>

#include "flyte/kube/client.h"

namespace flyte::kube::testing {

// The admin kubeconfig's path ($FLYTE_TEST_KUBECONFIG); aborts the test binary with a message when unset.
const std::string& AdminKubeconfigPath();
// Admin client (client certificate).
ClusterConfig AdminConfig();
std::unique_ptr<Client> AdminClient();
// A PEM certificate of a CA that did not sign the test cluster's serving certificate.
const std::string& UnrelatedCaPem();

// Creates the TaskAction CRD (deploy/crds/flyte.org_taskactions.yaml) if absent and waits until it is
// Established. Idempotent.
void EnsureTaskActionCrd(Client& admin);
// Waits (once per process, up to 2 minutes) until kube-controller-manager's garbage collector handles TaskActions:
// it discovers new resource types every 30 s, and foreground deletes of parents depend on it.
void WaitForGarbageCollectorToKnowTaskActions(Client& admin);

// A namespace of its own ("t-<prefix>-<random>"), deleted (with everything in it) on destruction.
class TestNamespace {
 public:
  explicit TestNamespace(Client& admin, const std::string& prefix = "t");
  ~TestNamespace();
  const std::string& name() const { return name_; }

 private:
  Client& admin_;
  std::string name_;
};

// Waits for `predicate` up to `timeout_ms`, polling every 20 ms; returns its last value.
bool Eventually(const std::function<bool()>& predicate, int timeout_ms = 10000);

}  // namespace flyte::kube::testing
