#!/usr/bin/env bash
# Kubernetes mode end to end, against a REAL control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler; kwok is the stand-in kubelet: it moves Pods through their phases as tests/k8s/kwok-stages.yaml
# says, and nothing runs in them) started by scripts/k8s-testenv.sh on loopback.
#
# runs-service (SQLite), queue-service (queue.backend: kubernetes) and the executor (executor.runtime: kubernetes)
# run as local processes; queue-service and the executor each use the token of their own ServiceAccount bound to
# the least-privilege Roles of the Helm chart (helm/flyte-cpp; deploy/kubernetes/rbac.yaml, the same rules, when
# helm is not built). A task picks what its Pod does with annotations in its
# Pod template (kwok.flyte.test/outcome: succeed | fail | run | image-pull-error, .../exit-code, .../delay-ms).
# The Kubernetes-mode /metrics of queue-service and the executor pass `promtool check metrics`.
set -euo pipefail
source "$(dirname "$0")/lib/stack.sh"
source "$(dirname "$0")/lib/k8s_stack.sh"

step "starting the test control plane"
k8s_up

NS=flyte-e2e
setup_namespace "$NS" || fail "namespace $NS"
if [ -x "$KBIN/helm" ]; then echo "  ServiceAccounts and Roles: the Helm chart's (helm/flyte-cpp)"; else echo "  ServiceAccounts and Roles: deploy/kubernetes/rbac.yaml (helm not built)"; fi
token_kubeconfig flyte-queue "$NS" "$WORK/queue.kubeconfig"
token_kubeconfig flyte-executor "$NS" "$WORK/executor.kubeconfig"
token_kubeconfig flyte-runs "$NS" "$WORK/runs.kubeconfig"  # TailLogs: runs.logs.source kubernetes

step "the ServiceAccounts can do what their service does and nothing more"
can() { kc auth can-i "$1" "$2" -n "$3" --as="system:serviceaccount:$NS:$4"; }
[ "$(can create taskactions.flyte.org "$NS" flyte-queue)" = yes ] || fail "queue-service cannot create TaskActions"
[ "$(can create pods "$NS" flyte-executor)" = yes ] || fail "the executor cannot create Pods"
[ "$(can create secrets "$NS" flyte-executor)" = yes ] || fail "the executor cannot create Secrets (task secrets)"
[ "$(kc auth can-i get pods --subresource=log -n "$NS" --as="system:serviceaccount:$NS:flyte-runs")" = yes ] ||
  fail "runs-service cannot read Pod logs"
for check in "list secrets $NS flyte-executor" "get secrets $NS flyte-queue" "create pods $NS flyte-queue" \
             "create taskactions.flyte.org $NS flyte-executor" "create pods default flyte-executor" \
             "list taskactions.flyte.org default flyte-queue" "get secrets $NS flyte-runs" "create pods $NS flyte-runs" \
             "list pods $NS flyte-runs" "get taskactions.flyte.org $NS flyte-runs"; do
  # shellcheck disable=SC2086
  [ "$(can $check || true)" = no ] || fail "a ServiceAccount may do more than it needs: can-i $check"
done

ta() { kc -n "$NS" get taskaction "$@"; }
pods_of() { kc -n "$NS" get pods -l "flyte.org/run=$1" -o name | wc -l; }

write_kube_configs "$NS" "$WORK/executor.kubeconfig"
start queue
start runs
start executor

step "a container task -> SUCCEEDED; its TaskAction and Pod show it"
create_run ok1 'echo hi' >/dev/null || fail "CreateRun ok1"
wait_phase ok1 ACTION_PHASE_SUCCEEDED 60
[ "$(ta ok1-a0 -o jsonpath='{.status.phase}')" = Succeeded ] || fail "TaskAction ok1-a0 is not Succeeded: $(ta ok1-a0 -o yaml)"
[ "$(kc -n "$NS" get pod ok1-a0-1 -o jsonpath='{.status.phase}')" = Succeeded ] || fail "no Succeeded pod ok1-a0-1"
[ "$(kc -n "$NS" get pod ok1-a0-1 -o jsonpath='{.metadata.ownerReferences[0].name}')" = ok1-a0 ] || fail "pod not owned by its TaskAction"
kc -n "$NS" get pod ok1-a0-1 -o jsonpath='{.spec.containers[0].env[?(@.name=="_U_RUN_BASE")].value}' | grep -q "file://$WORK/data" ||
  fail "pod env lacks the run base"
kc -n "$NS" get pod ok1-a0-1 -o jsonpath='{.spec.restartPolicy}' | grep -qx Never || fail "restartPolicy is not Never"
# The finalizer goes once SUCCEEDED is recorded.
for _ in $(seq 1 50); do [ -z "$(ta ok1-a0 -o jsonpath='{.metadata.finalizers}')" ] && break; sleep 0.1; done
[ -z "$(ta ok1-a0 -o jsonpath='{.metadata.finalizers}')" ] || fail "finalizer still on a finished TaskAction"
ta >"$WORK/ta.txt"
grep -q "^ok1-a0 *ok1 *a0 *Succeeded *1 " "$WORK/ta.txt" || fail "kubectl get taskactions columns: $(cat "$WORK/ta.txt")"

step "a Pod-template task: template labels/annotations merged, {{.vars}} substituted"
pod_run pt1 '{"kwok.flyte.test/outcome": "succeed"}' >/dev/null || fail "CreateRun pt1: $(cat "$WORK/rpc.out")"
wait_phase pt1 ACTION_PHASE_SUCCEEDED 60
[ "$(kc -n "$NS" get pod pt1-a0-1 -o jsonpath='{.metadata.labels.team}')" = e2e ] || fail "template label missing"
kc -n "$NS" get pod pt1-a0-1 -o jsonpath='{.spec.containers[0].args}' | grep -q "file://$WORK/data/$PROJECT/$DOMAIN/pt1/a0/1" ||
  fail "output prefix not substituted: $(kc -n "$NS" get pod pt1-a0-1 -o jsonpath='{.spec.containers[0].args}')"

step "a cached task, no data volume shared with the Pods: the cache does not apply, it runs: CACHE_SKIPPED"
pod_run cs1 '{"kwok.flyte.test/outcome": "succeed"}' '{"discoverable": true, "discoveryVersion": "1"}' >/dev/null ||
  fail "CreateRun cs1: $(cat "$WORK/rpc.out")"
wait_phase cs1 ACTION_PHASE_SUCCEEDED 60
[ "$(details cs1 | jq -r '.details.action.status.cacheStatus')" = CACHE_SKIPPED ] ||
  fail "cached task on Kubernetes without a data volume: expected CACHE_SKIPPED, got $(details cs1)"

step "a failing Pod (exit 3), retries 1 -> FAILED after 2 attempts with the exit code"
pod_run f1 '{"kwok.flyte.test/outcome": "fail", "kwok.flyte.test/exit-code": "3"}' '{"retries":{"retries":1}}' >/dev/null ||
  fail "CreateRun f1"
wait_phase f1 ACTION_PHASE_FAILED 60 lenient
d=$(details f1)
[ "$(jq -r '.details.action.status.attempts' <<<"$d")" = 2 ] || fail "expected 2 attempts: $d"
jq -r '.details.action.errorInfo.message // .details.attempts[-1].errorInfo.message' <<<"$d" | grep -q "exited with code 3" ||
  fail "error does not carry exit code 3: $d"
[ "$(pods_of f1)" = 2 ] || fail "expected 2 pods for f1 (one per attempt)"
[ "$(ta f1-a0 -o jsonpath='{.status.phase}/{.status.attempt}/{.status.error.code}')" = "Failed/2/NonZeroExit" ] ||
  fail "TaskAction status: $(ta f1-a0 -o jsonpath='{.status}')"

step "TailLogs: attempt 1 of f1 from its Pod's log through the API server (runs-service's own ServiceAccount)"
# kwok serves every container's log from this CRI-format file.
printf '2026-12-06T05:28:07.000000001Z stdout F line from the pod\n2026-12-06T05:28:08Z stderr F and its stderr\n' \
  >"$K8S_TESTENV_DIR/pod-logs.cri"
out=$(python3 "$ROOT/tests/e2e/lib/connect_stream.py" "http://127.0.0.1:$RUNS_PORT/flyteidl2.dataproxy.DataProxyService/TailLogs" \
  "{\"actionId\":{\"run\":$(run_id f1),\"name\":\"a0\"},\"attempt\":1}" 30) || fail "TailLogs f1 attempt 1: $out"
jq -e -s '[.[].logs[]? | .container.kubernetesPodName as $p | .lines[] | "\($p) \(.message)"] ==
  ["f1-a0-1 line from the pod\n", "f1-a0-1 and its stderr\n"]' <<<"$out" >/dev/null || fail "TailLogs f1: $out"
# The executor names each attempt's Pod log, so the attempt reports logs_available (the SDK waits for it).
jq -e '.details.action.attempts[0] | .logsAvailable == true and .logInfo[0].uri == "k8s://'"$NS"'/pods/f1-a0-1/log"' \
  <<<"$(details f1)" >/dev/null || fail "attempt 1 of f1 does not name its Pod log: $(details f1)"
echo "  2 lines of Pod f1-a0-1 (the attempt is over: the stream ended by itself); its attempt has logsAvailable"

step "an image that cannot be pulled -> FAILED, system error"
pod_run ip1 '{"kwok.flyte.test/outcome": "image-pull-error"}' >/dev/null || fail "CreateRun ip1"
wait_phase ip1 ACTION_PHASE_FAILED 60
details ip1 | jq -r '.details.action.errorInfo.kind' | grep -q SYSTEM || fail "image pull failure is not a system error: $(details ip1)"

step "a timeout of 2s on a Pod that keeps running -> TIMED_OUT, Pod deleted"
pod_run to1 '{"kwok.flyte.test/outcome": "run"}' '{"timeout":"2s"}' >/dev/null || fail "CreateRun to1"
wait_phase to1 ACTION_PHASE_TIMED_OUT 60
for _ in $(seq 1 100); do kc -n "$NS" get pod to1-a0-1 >/dev/null 2>&1 || break; sleep 0.1; done
kc -n "$NS" get pod to1-a0-1 >/dev/null 2>&1 && fail "timed-out pod still exists"

step "AbortRun of a running run -> ABORTED; its TaskActions and Pods are deleted"
pod_run ab1 '{"kwok.flyte.test/outcome": "run"}' >/dev/null || fail "CreateRun ab1"
wait_phase ab1 ACTION_PHASE_RUNNING 60
rpc flyteidl2.workflow.RunService/AbortRun "{\"runId\":$(run_id ab1),\"reason\":\"e2e abort\"}" >/dev/null || fail "AbortRun"
[ "$(phase ab1)" = ACTION_PHASE_ABORTED ] || fail "run not ABORTED right after AbortRun"
t0=$(now_ms)
for _ in $(seq 1 200); do [ "$(pods_of ab1)" = 0 ] && ! ta ab1-a0 >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(pods_of ab1)" = 0 ] || fail "pods of ab1 left after the abort"
ta ab1-a0 >/dev/null 2>&1 && fail "TaskAction ab1-a0 left after the abort: $(ta ab1-a0 -o yaml)"
echo "abort: TaskAction and Pod gone $(($(now_ms) - t0)) ms after AbortRun"

step "a parent with 20 children: TaskActions owned by the parent's, all SUCCEEDED"
pod_run par1 '{"kwok.flyte.test/delay-ms": "12000"}' >/dev/null || fail "CreateRun par1"
wait_phase par1 ACTION_PHASE_RUNNING 60
base="file://$WORK/data/$PROJECT/$DOMAIN/par1/"
for i in $(seq 1 20); do
  rpc flyteidl2.workflow.QueueService/EnqueueAction "$(jq -cn --argjson id "$(run_id par1)" --arg base "$base" --arg n "c$i" '{
    actionId: {run: $id, name: $n}, parentActionName: "a0", inputUri: ($base + $n + "/inputs.pb"), runOutputBase: $base,
    task: {id: {org: $id.org, project: $id.project, domain: $id.domain, name: "sub", version: "1"},
           spec: {shortName: "sub", taskTemplate: {type: "container", container: {image: "busybox", args: ["true"]}}}}}')" \
    >/dev/null || fail "EnqueueAction c$i: $(cat "$WORK/rpc.out")"
done
parent_uid=$(ta par1-a0 -o jsonpath='{.metadata.uid}')
for _ in $(seq 1 300); do
  out=$(rpc flyteidl2.workflow.RunService/ListActions "{\"runId\":$(run_id par1)}") || fail "ListActions"
  [ "$(jq '[.actions[] | select(.metadata.parent == "a0" and .status.phase == "ACTION_PHASE_SUCCEEDED")] | length' <<<"$out")" = 20 ] && break
  sleep 0.1
done
[ "$(jq '[.actions[] | select(.metadata.parent == "a0" and .status.phase == "ACTION_PHASE_SUCCEEDED")] | length' <<<"$out")" = 20 ] ||
  fail "not all 20 children SUCCEEDED: $out"
owned=$(kc -n "$NS" get taskactions -l flyte.org/run=par1,flyte.org/is-root=false -o json |
  jq --arg uid "$parent_uid" '[.items[] | select(.metadata.ownerReferences[0].uid == $uid)] | length')
[ "$owned" = 20 ] || fail "$owned of 20 child TaskActions owned by the parent's"
wait_phase par1 ACTION_PHASE_SUCCEEDED 60

step "promtool check metrics on the Kubernetes-mode /metrics of queue-service and the executor (leader)"
command -v promtool >/dev/null || fail "promtool not found: scripts/bootstrap.sh installs it (Debian package prometheus)"
for t in queue:$QUEUE_PORT executor:$EXEC_PORT; do
  curl -sf "http://127.0.0.1:${t##*:}/metrics" >"$WORK/metrics-${t%%:*}" || fail "GET /metrics of ${t%%:*}"
  promtool check metrics <"$WORK/metrics-${t%%:*}" >"$WORK/lint" 2>&1 ||
    { cat "$WORK/lint" >&2; fail "promtool check metrics: ${t%%:*}"; }
done
for m in flyte_executor_leader flyte_executor_cached_objects flyte_executor_enqueue_to_pod_seconds_count \
  flyte_kube_requests_total; do
  grep -q "^$m" "$WORK/metrics-executor" || fail "the executor's /metrics has no $m"
done
echo "  queue-service and executor: no lint problems (the Kubernetes families included)"

step "kill -9 of the executor mid-run -> the run finishes, its Pod adopted, not duplicated"
pod_run kx1 '{"kwok.flyte.test/delay-ms": "5000"}' >/dev/null || fail "CreateRun kx1"
wait_phase kx1 ACTION_PHASE_RUNNING 60
stop executor KILL
start executor
wait_phase kx1 ACTION_PHASE_SUCCEEDED 60
[ "$(pods_of kx1)" = 1 ] || fail "kx1 has $(pods_of kx1) pods after the executor restart (expected 1)"
[ "$(details kx1 | jq -r '.details.action.status.attempts')" = 1 ] || fail "kx1 ran more than once"
# The Pod ran its annotated 5 s (kwok honours kwok.flyte.test/delay-ms; every timing step here relies on it).
kx1_ms=$(details kx1 | jq -r '.details.action.status.durationMs')
[ "${kx1_ms:-0}" -ge 4500 ] || fail "kx1 took ${kx1_ms} ms, less than its Pod's 5 s: kwok ignored kwok.flyte.test/delay-ms"

step "two executor replicas: one leads; kill -9 of the leader -> the other takes over, every action ends once"
start executor2
holder() { kc -n "$NS" get lease flyte-executor -o jsonpath='{.spec.holderIdentity}'; }
leader_before=$(holder)
# Pods run 8 s: long enough that ha1 is still RUNNING when a loaded machine's poll first sees it (4 s was not).
for i in $(seq 1 6); do pod_run "ha$i" '{"kwok.flyte.test/delay-ms": "8000"}' >/dev/null || fail "CreateRun ha$i"; done
wait_phase ha1 ACTION_PHASE_RUNNING 60
# The leader is the replica whose pid is in the holder identity (<host>-<pid>-<start>).
if [[ "$leader_before" == *"-${SVC_PID[executor]}-"* ]]; then leader=executor; else leader=executor2; fi
t0=$(now_ms)
stop "$leader" KILL
for _ in $(seq 1 100); do [ "$(holder)" != "$leader_before" ] && break; sleep 0.1; done
[ "$(holder)" != "$leader_before" ] || fail "no takeover of the lease after the leader was killed"
echo "leader failover: lease taken over $(($(now_ms) - t0)) ms after kill -9 (lease duration 3 s)"
for i in $(seq 1 6); do
  wait_phase "ha$i" ACTION_PHASE_SUCCEEDED 60
  [ "$(pods_of "ha$i")" = 1 ] || fail "ha$i has $(pods_of "ha$i") pods"
  [ "$(details "ha$i" | jq -r '.details.action.status.attempts')" = 1 ] || fail "ha$i ran more than once"
done
[ "$leader" = executor ] && start executor
[ "$leader" = executor2 ] && stop executor2

step "kube-apiserver restarted mid-run -> the run still finishes"
pod_run rs1 '{"kwok.flyte.test/delay-ms": "6000"}' >/dev/null || fail "CreateRun rs1"
wait_phase rs1 ACTION_PHASE_RUNNING 60
bash "$ROOT/scripts/k8s-testenv.sh" restart-apiserver >/dev/null
wait_phase rs1 ACTION_PHASE_SUCCEEDED 90
create_run rs2 'echo after' >/dev/null || fail "CreateRun rs2"
wait_phase rs2 ACTION_PHASE_SUCCEEDED 60

stop executor
stop queue

if [ -x "$KBIN/helm" ]; then
  step "the Helm chart's own queue-service and executor configs, ServiceAccounts, task ServiceAccount and data claim"
  # The configs the chart renders (helm/flyte-cpp, fullnameOverride=flyte), changed only where a process outside
  # the cluster must differ: loopback ports, a kubeconfig with the chart's ServiceAccount tokens instead of the
  # in-cluster one, runs-service on loopback. Task Pods get the chart's task ServiceAccount and data claim.
  NS3=flyte-chart-e2e
  kc create namespace "$NS3" >/dev/null
  kc apply -f - >/dev/null <<PV
apiVersion: v1
kind: PersistentVolume
metadata: {name: flyte-chart-e2e-data}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteMany]
  storageClassName: flyte-e2e
  hostPath: {path: /tmp/flyte-chart-e2e-data}
PV
  chart() {
    "$KBIN/helm" template flyte "$ROOT/helm/flyte-cpp" --namespace "$NS3" --set fullnameOverride=flyte \
      --set data.persistence.storageClassName=flyte-e2e "$@"
  }
  chart --show-only templates/serviceaccounts.yaml --show-only templates/rbac.yaml --show-only templates/tasks.yaml \
    --show-only templates/data.yaml | kc apply -f - >/dev/null
  token_kubeconfig flyte-queue "$NS3" "$WORK/queue3.kubeconfig"
  token_kubeconfig flyte-executor "$NS3" "$WORK/executor3.kubeconfig"
  mkdir -p "$WORK/chart"
  chart --set queueService.extraConfig.queue.server.host=127.0.0.1 --set queueService.extraConfig.queue.server.port="$QUEUE_PORT" \
    --set queueService.extraConfig.queue.kubernetes.kubeconfig="$WORK/queue3.kubeconfig" \
    --set executor.extraConfig.executor.server.host=127.0.0.1 --set executor.extraConfig.executor.server.port="$EXEC_PORT" \
    --set executor.extraConfig.executor.runsEndpoint="127.0.0.1:$RUNS_PORT" \
    --set executor.extraConfig.executor.kubernetes.kubeconfig="$WORK/executor3.kubeconfig" \
    --show-only templates/services.yaml | python3 "$ROOT/tests/e2e/lib/helm_render.py" configs "$WORK/chart"
  cp "$WORK/chart/queue.yaml" "$WORK/queue.yaml"; cp "$WORK/chart/executor.yaml" "$WORK/executor.yaml"
  # As the chart runs them: not root, in a working directory they cannot write (the chart mounts the root
  # filesystem read-only, with an emptyDir at /tmp).
  chmod 644 "$WORK/queue3.kubeconfig" "$WORK/executor3.kubeconfig"
  RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  start queue
  # The chart gives the executor its internal token from a Secret (this runs-service has none: loopback is enough).
  FLYTE_INTERNAL_TOKEN=chart-internal-token-for-e2e start executor
  RUN_AS=()
  [ "$(stat -c %u "/proc/${SVC_PID[executor]}")" = 65534 ] || fail "the executor does not run as uid 65534"
  create_run ch1 'echo chart' >/dev/null || fail "CreateRun ch1"
  wait_phase ch1 ACTION_PHASE_SUCCEEDED 60
  pod() { kc -n "$NS3" get pod ch1-a0-1 -o jsonpath="$1"; }
  [ "$(pod '{.spec.serviceAccountName}')" = flyte-task ] || fail "the task Pod's ServiceAccount is not the chart's"
  [ "$(pod '{.spec.volumes[?(@.persistentVolumeClaim)].persistentVolumeClaim.claimName}')" = flyte-data ] ||
    fail "the task Pod does not mount the chart's data claim"
  vol=$(pod '{.spec.volumes[?(@.persistentVolumeClaim.claimName=="flyte-data")].name}')
  [ "$(pod "{.spec.containers[0].volumeMounts[?(@.name==\"$vol\")].mountPath}")" = /var/lib/flyte/data ] ||
    fail "the data claim is not at data.mountPath: $(pod '{.spec.containers[0].volumeMounts}')"
  [[ "$(pod '{.spec.containers[0].env[?(@.name=="_U_EP_OVERRIDE")].value}')" == *"//flyte-runs.$NS3.svc:8090" ]] ||
    fail "task Pods do not call runs-service's Service: $(pod '{.spec.containers[0].env}')"
  echo "  ch1 SUCCEEDED (queue-service and executor as uid 65534, working directory not writable): Pod as flyte-task, claim flyte-data at /var/lib/flyte/data, runs-service at flyte-runs.$NS3.svc:8090"
  stop executor
  stop queue
fi
stop runs

step "flyte-manager with the seed's config and manager.kubernetes -> SUCCEEDED through a TaskAction and a Pod"
NS2=flyte-manager-e2e
setup_namespace "$NS2" || fail "namespace $NS2"
if [ -x "$KBIN/helm" ]; then  # the chart's manager mode: one ServiceAccount, one Role with both services' rules
  "$KBIN/helm" template flyte "$ROOT/helm/flyte-cpp" --namespace "$NS2" --set fullnameOverride=flyte --set mode=manager \
    --show-only templates/serviceaccounts.yaml --show-only templates/rbac.yaml | kc apply -f - >/dev/null
else
  kc -n "$NS2" create serviceaccount flyte-manager >/dev/null
  kc -n "$NS2" create rolebinding flyte-manager-queue --role=flyte-queue --serviceaccount="$NS2:flyte-manager" >/dev/null
  kc -n "$NS2" create rolebinding flyte-manager-executor --role=flyte-executor --serviceaccount="$NS2:flyte-manager" >/dev/null
fi
token_kubeconfig flyte-manager "$NS2" "$WORK/manager.kubeconfig"
MGR_RUNS=$(free_port) MGR_QUEUE=$(free_port) MGR_EXEC=$(free_port)
cat >"$WORK/manager.yaml" <<YAML
manager:
  runsService: {host: "127.0.0.1", port: $MGR_RUNS}
  queueService: {host: "127.0.0.1", port: $MGR_QUEUE}
  executor: {healthProbePort: $MGR_EXEC}
  kubernetes:
    namespace: "$NS2"
    kubeconfig: "$WORK/manager.kubeconfig"
database:
  type: "sqlite"
  sqlite:
    file: "$WORK/flyte.db"
logger:
  level: 4
  show-source: true
YAML
(cd "$WORK" && exec "$BIN/flyte-manager" --config "$WORK/manager.yaml") >>"$WORK/manager.log" 2>&1 &
SVC_PID[manager]=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$MGR_EXEC/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$MGR_EXEC/readyz" >/dev/null || fail "flyte-manager not ready"
RUNS_PORT=$MGR_RUNS
PROJECT=flytesnacks DOMAIN=development  # the seed's config: only the default project and domains exist
create_run mg1 'echo manager' >/dev/null || fail "CreateRun on flyte-manager: $(cat "$WORK/rpc.out")"
wait_phase mg1 ACTION_PHASE_SUCCEEDED 60
[ "$(kc -n "$NS2" get taskaction mg1-a0 -o jsonpath='{.status.phase}')" = Succeeded ] || fail "no Succeeded TaskAction mg1-a0"
stop manager

echo "kubernetes e2e: OK"
