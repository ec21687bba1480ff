# Sourced by tests/e2e/kubernetes.sh and scripts/bench-kubernetes.sh: the test control plane of
# scripts/k8s-testenv.sh with the TaskAction CRD, and namespaces with the Helm chart's least-privilege RBAC.
# The caller sets ROOT and K8S_TESTENV_DIR (exported) and calls k8s_up; k8s_down stops what k8s_up started.
KBIN=$(bash "$ROOT/scripts/k8s-testenv.sh" bin)

k8s_up() {
  ADMIN_KC=$(bash "$ROOT/scripts/k8s-testenv.sh" up | tail -1)
  kc apply -f "$ROOT/deploy/crds/flyte.org_taskactions.yaml" >/dev/null
  kc wait --for condition=established --timeout=60s crd/taskactions.flyte.org >/dev/null
}
k8s_down() { bash "$ROOT/scripts/k8s-testenv.sh" down >/dev/null 2>&1 || true; }
kc() { "$KBIN/kubectl" --kubeconfig="$ADMIN_KC" "$@"; }

# setup_namespace NS: the namespace, its default ServiceAccount (Pods need it), and the ServiceAccounts, Roles and
# RoleBindings of the Helm chart (helm/flyte-cpp, rendered with fullnameOverride=flyte: flyte-queue, flyte-executor)
# in it, so the services run with exactly the chart's rights. Without helm (scripts/k8s-testenv.sh builds it with
# K8S_WITH_HELM=1), deploy/kubernetes/rbac.yaml, which tests/e2e/helm.sh proves has the same rules.
setup_namespace() {
  local ns=$1
  kc create namespace "$ns" >/dev/null
  if [ -x "$KBIN/helm" ]; then
    "$KBIN/helm" template flyte "$ROOT/helm/flyte-cpp" --namespace "$ns" --set fullnameOverride=flyte \
      --show-only templates/serviceaccounts.yaml --show-only templates/rbac.yaml | kc apply -f - >/dev/null
  else
    sed "s/namespace: flyte\b/namespace: $ns/g" "$ROOT/deploy/kubernetes/rbac.yaml" | kc apply -f - >/dev/null
  fi
  for _ in $(seq 1 100); do kc -n "$ns" get serviceaccount default >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "namespace $ns has no default ServiceAccount" >&2
  return 1
}

# token_kubeconfig SA NS FILE: a kubeconfig that authenticates as that ServiceAccount (kubectl create token).
token_kubeconfig() {
  local sa=$1 ns=$2 file=$3 token server
  token=$(kc -n "$ns" create token "$sa" --duration=2h)
  server=$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  "$KBIN/kubectl" config set-cluster testenv --server="$server" --certificate-authority="$K8S_TESTENV_DIR/pki/ca.crt" \
    --embed-certs --kubeconfig="$file" >/dev/null
  "$KBIN/kubectl" config set-credentials "$sa" --token="$token" --kubeconfig="$file" >/dev/null
  "$KBIN/kubectl" config set-context "$sa" --cluster=testenv --user="$sa" --namespace="$ns" --kubeconfig="$file" >/dev/null
  "$KBIN/kubectl" config use-context "$sa" --kubeconfig="$file" >/dev/null
}

# write_queue_and_runs_configs DIR NS QUEUE_PORT RUNS_PORT: DIR/queue.yaml (TaskActions in NS, as the ServiceAccount
# of DIR/queue.kubeconfig) and DIR/runs.yaml (SQLite DIR/runs.db, data under DIR/data, the project $PROJECT and
# domain $DOMAIN the caller's runs use; default flytesnacks/development).
write_queue_and_runs_configs() {
  local dir=$1 ns=$2 queue_port=$3 runs_port=$4 logs=""
  # With a runs.kubeconfig (runs-service's ServiceAccount), TailLogs reads task Pods' logs through the API server.
  if [ -f "$dir/runs.kubeconfig" ]; then
    logs="  logs: {source: kubernetes, kubernetes: {namespace: $ns, kubeconfig: \"$dir/runs.kubeconfig\"}}"
  fi
  cat >"$dir/queue.yaml" <<YAML
queue:
  server: {host: 127.0.0.1, port: $queue_port}
  backend: kubernetes
  kubernetes: {namespace: $ns, kubeconfig: "$dir/queue.kubeconfig"}
YAML
  cat >"$dir/runs.yaml" <<YAML
runs:
  server: {host: 127.0.0.1, port: $runs_port}
  storagePrefix: file://$dir/data
  projects: "${PROJECT:-flytesnacks}"
  domains: "${DOMAIN:-development}"
  queue: {endpoint: "127.0.0.1:$queue_port", minBackoff: 50ms, maxBackoff: 500ms}
$logs
database:
  sqlite: {file: "$dir/runs.db"}
YAML
}
