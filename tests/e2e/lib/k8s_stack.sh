# Sourced by tests/e2e/kubernetes*.sh right after lib/stack.sh: the test control plane of scripts/k8s-testenv.sh
# (scripts/lib/k8s.sh) with its state in $WORK/k8s, stopped on exit before the services are (on failure the
# cluster's TaskActions and Pods are printed first), and the helpers the Kubernetes-mode tests share.
export K8S_TESTENV_DIR=$WORK/k8s
source "$ROOT/scripts/lib/k8s.sh"
stack_cleanup_with_cluster() {
  local rc=$?
  set +e  # `(exit $rc)` below must hand rc to cleanup, not end the shell before the services are stopped
  if [ $rc -ne 0 ] && [ -n "${ADMIN_KC:-}" ]; then
    echo "--- cluster state at failure" >&2
    kc get taskactions,pods -A -o wide >&2 2>&1 || true
  fi
  k8s_down
  (exit $rc)
  cleanup
}
trap stack_cleanup_with_cluster EXIT

# write_kube_configs NAMESPACE EXECUTOR_KUBECONFIG [EXTRA]: queue.yaml and runs.yaml (write_queue_and_runs_configs),
# and executor.yaml / executor2.yaml in Kubernetes mode; EXTRA is more YAML under executor.kubernetes (indented by
# four spaces, one key per line).
write_kube_configs() {
  write_queue_and_runs_configs "$WORK" "$1" "$QUEUE_PORT" "$RUNS_PORT"
  for e in executor:$EXEC_PORT executor2:$EXEC2_PORT; do
    cat >"$WORK/${e%%:*}.yaml" <<YAML
executor:
  server: {host: 127.0.0.1, port: ${e##*:}}
  runtime: kubernetes
  runsEndpoint: "127.0.0.1:$RUNS_PORT"
  dataRoot: "$WORK/data"
  killGracePeriod: 1s
  kubernetes:
    namespace: $1
    kubeconfig: "$2"
    imagePullGracePeriod: 1s
    leaderElection: {leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 300ms}
${3:-}
YAML
  done
}

# data_claim NS: a hostPath PersistentVolume on $WORK/data and the claim flyte-data in NS, bound by
# kube-controller-manager (the scheduler places no Pod whose claim is unbound). Task Pods of an executor configured
# with dataVolumeClaim: flyte-data and dataRoot $WORK/data then write where the executor reads.
data_claim() {
  local ns=$1
  mkdir -p "$WORK/data"
  kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: $ns-data}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  storageClassName: $ns
  hostPath: {path: "$WORK/data"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: flyte-data, namespace: $ns}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: $ns
  resources: {requests: {storage: 1Gi}}
YAML
  for _ in $(seq 1 600); do [ "$(kc -n "$ns" get pvc flyte-data -o jsonpath='{.status.phase}')" = Bound ] && return 0; sleep 0.1; done
  fail "the claim flyte-data was not bound"
}

# start_data_volume_stack NS: what the tests whose Pods share a data volume start with: the test control plane,
# namespace NS with the chart's ServiceAccounts, the claim flyte-data (data_claim), and queue-service, runs-service
# and an executor whose task Pods mount the claim and which mounts it at its dataRoot too (here: the same
# directory), as the Helm chart's does. Sets PY, the .venv's python with flyteidl2 (to play the container).
start_data_volume_stack() {
  local ns=$1
  PY=$ROOT/.venv/bin/python
  "$PY" -c 'import flyteidl2' 2>/dev/null || fail "$PY has no flyteidl2: run scripts/bootstrap.sh"
  step "starting the test control plane; namespace $ns with the claim flyte-data, bound by kube-controller-manager"
  k8s_up
  setup_namespace "$ns" || fail "namespace $ns"
  token_kubeconfig flyte-queue "$ns" "$WORK/queue.kubeconfig"
  token_kubeconfig flyte-executor "$ns" "$WORK/executor.kubeconfig"
  data_claim "$ns"
  write_kube_configs "$ns" "$WORK/executor.kubeconfig" "    dataVolumeClaim: flyte-data"
  start queue
  start runs
  start executor
}

# pod_run NAME ANNOTATIONS_JSON [TASK_METADATA_JSON [TEMPLATE_JSON [RUN_SPEC_JSON]]]: a run whose task carries a Pod
# template (primary container "main") with those annotations: kwok decides the Pod's fate from them. TEMPLATE_JSON is
# merged into the TaskTemplate (e.g. {"securityContext": ...}); RUN_SPEC_JSON is the run's spec (e.g. cacheConfig).
pod_run() {
  local name=$1 ann=$2 meta=${3:-'{}'} more=${4:-'{}'} spec=${5:-'{}'}
  rpc flyteidl2.workflow.RunService/CreateRun "$(jq -cn --argjson id "$(run_id "$name")" --argjson ann "$ann" \
    --argjson meta "$meta" --argjson more "$more" --argjson spec "$spec" \
    '(if $spec == {} then {} else {runSpec: $spec} end) + {runId: $id, taskSpec: {shortName: "t", taskTemplate: ({
      id: {name: "t", version: "1"}, type: "python", metadata: $meta, config: {primary_container_name: "main"},
      k8sPod: {primaryContainerName: "main", metadata: {labels: {team: "e2e"}, annotations: $ann},
               podSpec: {containers: [{name: "main", image: "example.org/flyte-task:1",
                 args: ["run-task", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}"]}]}}} + $more)}}')"
}
