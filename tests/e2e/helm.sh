#!/usr/bin/env bash
# The Helm chart (helm/flyte-cpp), checked with the pinned helm and against a REAL control plane
# (scripts/k8s-testenv.sh: etcd, kube-apiserver, kube-controller-manager, kube-scheduler on loopback; kwok is the
# stand-in kubelet, so Deployment Pods go Running/Ready and nothing runs in them; images are never pulled):
#   1. the chart's CRD is deploy/crds' file; `helm lint --strict` with every shipped values file (helm/flyte-cpp/ci);
#      `helm package` carries crds/; values.schema.json refuses a wrong type and an unknown key, naming it; each
#      values file renders the objects it should; every Pod template is non-root, read-only, without capabilities,
#      seccomp RuntimeDefault, with resources and /healthz + /readyz probes; the chart's Roles are
#      deploy/kubernetes/rbac.yaml's, nothing cluster-wide, on Secrets only the executor's create/get/delete; the rendered configs pass each binary's
#      --validate-config (and a misspelt extraConfig key fails); runs-service on the chart's PostgreSQL config runs
#      as uid 65534 against a throwaway PostgreSQL that requires the password; the PrometheusRule passes promtool
#      and has the alerts of deploy/prometheus/rules.yaml (tests/e2e/lib/rules_match.py);
#   2. `helm template | kubectl apply --dry-run=server` with every values file (the monitoring CRDs first: stand-ins);
#   3. `helm install --wait` (PostgreSQL StatefulSet, claims bound to test PersistentVolumes), what the chart's
#      ServiceAccounts may and may not do (`kubectl auth can-i`), `helm upgrade` with a changed value rolls every
#      Deployment (new checksum, new ReplicaSet), an upgrade whose Pods never get ready fails --wait, `helm
#      uninstall` (claims and the CRD kept); manager mode likewise.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FLYTE_BUILD_DIR=${FLYTE_BUILD_DIR:-$ROOT/build}
BIN=$FLYTE_BUILD_DIR/bin
CHART=$ROOT/helm/flyte-cpp
T0=$SECONDS
for b in runs-service queue-service executor flyte-manager; do
  [ -x "$BIN/$b" ] || { echo "helm.sh: $BIN/$b not built" >&2; exit 1; }
done
KBIN=$(bash "$ROOT/scripts/k8s-testenv.sh" bin)
if [ ! -x "$KBIN/helm" ] || [ ! -x "$KBIN/kube-apiserver" ]; then
  K8S_WITH_HELM=1 bash "$ROOT/scripts/k8s-testenv.sh" build
fi

WORK=$(mktemp -d /tmp/flyte-helm-XXXXXX)
export K8S_TESTENV_DIR=$WORK/k8s
export HELM_CACHE_HOME=$WORK/helm/cache HELM_CONFIG_HOME=$WORK/helm/config HELM_DATA_HOME=$WORK/helm/data
ADMIN_KC="" K8S_STARTED="" RUNS_PID="" PG_DATA=""
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
chmod 755 "$WORK"   # PostgreSQL (user postgres) keeps its data below it
source "$ROOT/scripts/lib/k8s.sh"
cleanup() {
  local rc=$?
  set +e   # stop everything even if one step of the clean-up fails
  if [ $rc -ne 0 ] && [ -n "$ADMIN_KC" ]; then
    echo "--- cluster state at failure" >&2
    kc get all,pvc,pv -A -o wide >&2 2>&1 || true
    kc get events -A --sort-by=.lastTimestamp 2>&1 | tail -n 30 >&2 || true
  fi
  [ -n "$K8S_STARTED" ] && k8s_down   # also after a failed start: down stops what up left running
  [ -n "$RUNS_PID" ] && { kill "$RUNS_PID" 2>/dev/null; wait "$RUNS_PID" 2>/dev/null; }
  [ -n "$PG_DATA" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- [$((SECONDS - T0))s] $*"; }
helm() { "$KBIN/helm" "$@"; }
render() { helm template flyte "$CHART" --namespace flyte "$@"; }
check() { python3 "$ROOT/tests/e2e/lib/helm_render.py" "$@"; }
VALUES=("$CHART"/ci/*-values.yaml)
[ ${#VALUES[@]} -ge 4 ] || fail "expected the shipped values files in $CHART/ci"
helm version --short

step "one CRD: the chart's crds/ file is deploy/crds'"
cmp "$ROOT/deploy/crds/flyte.org_taskactions.yaml" "$CHART/crds/flyte.org_taskactions.yaml" ||
  fail "helm/flyte-cpp/crds/flyte.org_taskactions.yaml differs from deploy/crds/: copy it again"

step "helm lint --strict with each shipped values file"
for v in "${VALUES[@]}"; do
  helm lint --strict "$CHART" -f "$v" >"$WORK/lint.log" 2>&1 || { cat "$WORK/lint.log" >&2; fail "helm lint $(basename "$v")"; }
  echo "  $(basename "$v"): ok"
done

step "helm package carries the CRD, the schema and NOTES.txt"
helm package "$CHART" -d "$WORK" >/dev/null
tar tzf "$WORK"/flyte-cpp-*.tgz >"$WORK/files"
for f in crds/flyte.org_taskactions.yaml values.schema.json templates/NOTES.txt; do
  grep -qx "flyte-cpp/$f" "$WORK/files" || fail "the packaged chart lacks $f"
done

step "values.schema.json refuses wrong types and unknown keys, naming them"
refused() {  # refused WHAT EXPECTED_TEXT HELM_ARGS...: rendering fails and the message contains EXPECTED_TEXT
  local what=$1 want=$2; shift 2
  if render "$@" >/dev/null 2>"$WORK/err"; then fail "$what was accepted"; fi
  grep -qF -- "$want" "$WORK/err" || { cat "$WORK/err" >&2; fail "$what: the message does not name '$want'"; }
  echo "  $what: $(grep -F -- "$want" "$WORK/err" | head -1 | cut -c1-150)"
}
refused "a string replica count" "/runsService/replicas" --set runsService.replicas=two
refused "an unknown key" "additional properties 'replica' not allowed" --set runsService.replica=2
refused "an unknown top-level key" "additional properties 'postgres' not allowed" --set postgres.enabled=false
refused "an unknown mode" "/mode" --set mode=cluster
refused "a bad duration" "/tasks/retention" --set tasks.retention=soon
refused "external database without host" "externalDatabase.host" --set postgresql.enabled=false
refused "tasks in another namespace without a claim there" "data.persistence.tasksClaim" --set tasks.namespace=flyte-tasks

step "what each values file creates"
kinds() { render -f "$CHART/ci/$1-values.yaml" | check kinds | sed 's|/.*||' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'; }
want_kinds() {  # want_kinds VALUES "Kind=N ..." (exact counts)
  local got; got=$(kinds "$1")
  [ "$got" = "$2 " ] || fail "$1-values.yaml renders $got, expected $2"
  echo "  $1: $got"
}
want_kinds default "ConfigMap=3 Deployment=3 PersistentVolumeClaim=1 PodDisruptionBudget=1 Role=3 RoleBinding=3 Secret=2 Service=4 ServiceAccount=5 StatefulSet=1"
want_kinds external-postgres "ConfigMap=3 Deployment=3 PersistentVolumeClaim=1 PodDisruptionBudget=1 Role=3 RoleBinding=3 Secret=1 Service=3 ServiceAccount=4"
want_kinds manager "ConfigMap=1 Deployment=1 PersistentVolumeClaim=2 Role=1 RoleBinding=1 Service=1 ServiceAccount=2"
want_kinds monitoring "ConfigMap=3 Deployment=3 PersistentVolumeClaim=1 PodDisruptionBudget=1 PrometheusRule=1 Role=3 RoleBinding=3 Secret=2 Service=4 ServiceAccount=5 ServiceMonitor=1 StatefulSet=1"
render -f "$CHART/ci/external-postgres-values.yaml" --show-only templates/services.yaml >"$WORK/ext.yaml"
grep -A1 "secretKeyRef:" "$WORK/ext.yaml" | grep -q "name: flyte-db" || fail "runs-service does not read the existing Secret flyte-db"
grep -q "host: postgres.databases.svc.cluster.local" "$WORK/ext.yaml" || fail "runs-service config lacks the external host"
# runs-service and the executor share the internal token (task secrets' values), from the chart's Secret.
render --set fullnameOverride=flyte >"$WORK/default.yaml"
[ "$(grep -A3 "name: FLYTE_INTERNAL_TOKEN" "$WORK/default.yaml" | grep -c "name: flyte-internal$")" = 2 ] ||
  fail "runs-service and the executor do not both read FLYTE_INTERNAL_TOKEN from Secret flyte-internal"
[ "$(grep -c "internalTokenEnv: FLYTE_INTERNAL_TOKEN" "$WORK/default.yaml")" = 2 ] || fail "the runs/executor configs lack internalTokenEnv"

step "Pod security, probes and resources; RBAC = deploy/kubernetes/rbac.yaml"
for v in "${VALUES[@]}"; do
  render -f "$v" | check pods || fail "Pod templates of $(basename "$v")"
done
render --set fullnameOverride=flyte --show-only templates/rbac.yaml | check rbac "$ROOT/deploy/kubernetes/rbac.yaml" ||
  fail "the chart's Roles differ from deploy/kubernetes/rbac.yaml"
render --set mode=manager --show-only templates/rbac.yaml >"$WORK/rbac.yaml"
grep -q "resources: \[pods\]" "$WORK/rbac.yaml" && grep -q "verbs: \[create, get, list, patch, delete, deletecollection\]" "$WORK/rbac.yaml" ||
  fail "the manager's Role lacks the executor's or queue-service's rules"

step "the rendered configs pass each binary's --validate-config"
export FLYTE_DB_PASSWORD=for-validation-only FLYTE_INTERNAL_TOKEN=for-validation-only-token
declare -A BINARY=([runs]=runs-service [queue]=queue-service [executor]=executor [manager]=flyte-manager)
for v in "${VALUES[@]}"; do
  d=$WORK/cfg/$(basename "$v" .yaml); mkdir -p "$d"
  render -f "$v" | check configs "$d" || fail "configs of $(basename "$v")"
  for f in "$d"/*.yaml; do
    c=$(basename "$f" .yaml)
    "$BIN/${BINARY[$c]}" --config "$f" --validate-config >"$WORK/out" 2>&1 || { cat "$f" "$WORK/out" >&2; fail "$(basename "$v"): $c config refused"; }
    echo "  $(basename "$v"): ${BINARY[$c]} config OK"
  done
done
d=$WORK/cfg/bad; mkdir -p "$d"
render --set runsService.extraConfig.runs.watchBuferSize=5 | check configs "$d"
if "$BIN/runs-service" --config "$d/runs.yaml" --validate-config >"$WORK/out" 2>&1; then fail "a misspelt extraConfig key passed"; fi
grep -q "runs.watchBuferSize: unknown key" "$WORK/out" || { cat "$WORK/out" >&2; fail "the binary did not name the misspelt key"; }
echo "  extraConfig runs.watchBuferSize: refused by runs-service, named"

step "a changed value changes every Deployment's config checksum"
render | check checksums | sort >"$WORK/sum1"
render --set logLevel=5 | check checksums | sort >"$WORK/sum2"
[ "$(join "$WORK/sum1" "$WORK/sum2" | awk '$2 != $3' | wc -l)" = 3 ] || { paste "$WORK/sum1" "$WORK/sum2" >&2; fail "checksums"; }

step "runs-service on the chart's config: PostgreSQL with the password from the environment, not root"
# The config the chart renders for the bundled PostgreSQL (user and database flyte, passwordEnv), pointed at a
# throwaway server on loopback that requires that password; runs-service runs as uid 65534 in a directory it cannot
# write, with a directory it owns standing in for the data claim.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port) RUNS_PORT=$(free_port)
mkdir -p "$WORK/pg" "$WORK/data" && chown postgres "$WORK/pg" && chown 65534:65534 "$WORK/data"
echo "$FLYTE_DB_PASSWORD" >"$WORK/pg/pw" && chown postgres "$WORK/pg/pw"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -U flyte --auth=scram-sha-256 --pwfile="$WORK/pg/pw" \
  >"$WORK/pg/initdb.log" 2>&1 || { cat "$WORK/pg/initdb.log" >&2; fail "initdb"; }
PG_DATA=$WORK/pg/data
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -w -l "$WORK/pg/server.log" \
  -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || fail "pg_ctl start"
PGPASSWORD=$FLYTE_DB_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U flyte -d postgres -qc "CREATE DATABASE flyte" || fail "createdb"
d=$WORK/cfg/pg; mkdir -p "$d"
# Outside a Pod there is no service-account token for TailLogs' Pod log source (runs.logs.source: kubernetes): a
# kubeconfig stands in for it (nothing here asks for logs, so its server is never called).
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n' \
  >"$WORK/runs.kubeconfig" && chmod 644 "$WORK/runs.kubeconfig"
render --set runsService.extraConfig.runs.server.host=127.0.0.1 --set runsService.extraConfig.runs.server.port="$RUNS_PORT" \
  --set runsService.extraConfig.runs.storagePrefix="file://$WORK/data" \
  --set runsService.extraConfig.runs.logs.kubernetes.kubeconfig="$WORK/runs.kubeconfig" \
  --set runsService.extraConfig.database.postgres.host=127.0.0.1 --set runsService.extraConfig.database.postgres.port="$PG_PORT" \
  --show-only templates/services.yaml | check configs "$d"
(cd "$WORK" && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/runs-service" --config "$d/runs.yaml") \
  >"$WORK/runs.log" 2>&1 &
RUNS_PID=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$RUNS_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$RUNS_PORT/readyz" >/dev/null || { cat "$WORK/runs.log" >&2; fail "runs-service on the chart's config is not ready"; }
code=$(curl -s -o "$WORK/rpc.out" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"runId":{"org":"o","project":"flytesnacks","domain":"development","name":"helm1"},"taskSpec":{"shortName":"t","taskTemplate":{"id":{"name":"t","version":"1"},"type":"container","container":{"image":"x","command":["true"]}}},"inputs":{}}' \
  "http://127.0.0.1:$RUNS_PORT/flyteidl2.workflow.RunService/CreateRun")
[ "$code" = 200 ] || fail "CreateRun on the chart's runs-service config: $code $(cat "$WORK/rpc.out")"
written=$(find "$WORK/data" -type f -user 65534 | wc -l)
[ "$written" -ge 1 ] || fail "runs-service wrote nothing under its data root"
PGPASSWORD=wrong psql -h 127.0.0.1 -p "$PG_PORT" -U flyte -d flyte -qc "select 1" >/dev/null 2>&1 && fail "PostgreSQL accepts any password"
kill "$RUNS_PID"; wait "$RUNS_PID" 2>/dev/null || true; RUNS_PID=""
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null; PG_DATA=""
echo "  ready as uid 65534 on PostgreSQL with a password (scram-sha-256) from FLYTE_DB_PASSWORD; CreateRun answered 200, $written file(s) under the data root"

step "the PrometheusRule's alerts: promtool check rules, unit tests (tests/e2e/lib/helm_rules_test.yaml), same as deploy/prometheus/rules.yaml"
command -v promtool >/dev/null || fail "promtool not found: scripts/bootstrap.sh installs it (Debian package prometheus)"
{
  mkdir -p "$WORK/rules"
  render -f "$CHART/ci/monitoring-values.yaml" --show-only templates/monitoring.yaml | python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] == "PrometheusRule":
        print(yaml.safe_dump({"groups": d["spec"]["groups"]}))' >"$WORK/rules/rules.yaml"
  cp "$ROOT/tests/e2e/lib/helm_rules_test.yaml" "$WORK/rules/"
  promtool check rules "$WORK/rules/rules.yaml" >"$WORK/check" 2>&1 || { cat "$WORK/check" >&2; fail "promtool check rules"; }
  (cd "$WORK/rules" && promtool test rules helm_rules_test.yaml) >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "promtool test rules"; }
  echo "  $(grep -o '[0-9]* rules found' "$WORK/check"), valid; every alert fires in its unit test"
  python3 "$ROOT/tests/e2e/lib/rules_match.py" "$WORK/rules/rules.yaml" "$ROOT/deploy/prometheus/rules.yaml" \
    >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "the chart's alerts differ from deploy/prometheus/rules.yaml"; }
  echo "  the same alerts as deploy/prometheus/rules.yaml: $(cat "$WORK/out")"
}

step "starting the test control plane"
K8S_STARTED=1
k8s_up
export KUBECONFIG=$ADMIN_KC   # for helm
kc apply -f "$ROOT/tests/k8s/monitoring-crds-standin.yaml" >/dev/null
kc wait --for condition=established --timeout=60s crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com >/dev/null
kc create namespace flyte >/dev/null

step "helm template | kubectl apply --dry-run=server, every values file"
for v in "${VALUES[@]}"; do
  render -f "$v" >"$WORK/rendered.yaml"
  kc apply --dry-run=server --validate=strict -f "$WORK/rendered.yaml" >"$WORK/out" 2>&1 ||
    { cat "$WORK/out" >&2; fail "the API server refused objects of $(basename "$v")"; }
  echo "  $(basename "$v"): $(grep -c 'server dry run' "$WORK/out") objects accepted"
done
# The longest release name Helm allows (53): every name stays a valid DNS label.
long=$(printf 'r%.0s' $(seq 1 53))
helm template "$long" "$CHART" --namespace flyte >"$WORK/rendered.yaml"
kc apply --dry-run=server --validate=strict -f "$WORK/rendered.yaml" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "a 53-character release name"; }
echo "  release name of 53 characters: accepted"
# Tasks in their own namespace: the Roles, the task ServiceAccount and the configs point there.
kc create namespace flyte-tasks >/dev/null
render --set tasks.namespace=flyte-tasks --set data.persistence.tasksClaim=tasks-data >"$WORK/rendered.yaml"
kc apply --dry-run=server --validate=strict -f "$WORK/rendered.yaml" >/dev/null || fail "tasks namespace: objects refused"
[ "$(python3 -c 'import sys, yaml
objs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
print(sorted({o["metadata"]["namespace"] for o in objs if o["kind"] in ("Role", "RoleBinding") or o["metadata"]["name"].endswith("-task")}))' "$WORK/rendered.yaml")" = "['flyte-tasks']" ] || fail "Roles and the task ServiceAccount are not in the tasks namespace"
grep -q 'dataVolumeClaim: tasks-data' "$WORK/rendered.yaml" || fail "task Pods do not mount data.persistence.tasksClaim"
grep -q 'taskTmpOnDataVolume: true' "$WORK/rendered.yaml" || fail "task Pods' /tmp is not on the data volume by default"
render --set tasks.tmpOnDataVolume=false | grep -q 'taskTmpOnDataVolume: false' || fail "tasks.tmpOnDataVolume=false not rendered"
echo "  tasks.namespace=flyte-tasks: accepted; Roles, RoleBindings and the task ServiceAccount there"
# The schema of the stand-in CRDs is enforced: a misspelt field is refused (so the check above means something).
render -f "$CHART/ci/monitoring-values.yaml" --show-only templates/monitoring.yaml | sed 's/scrapeTimeout:/scrapeTimout:/' |
  kc apply --dry-run=server --validate=strict -f - >/dev/null 2>&1 && fail "the ServiceMonitor stand-in accepted an unknown field"

step "helm install --wait (defaults: three services, bundled PostgreSQL)"
# Storage for the claims: hostPath PersistentVolumes of class flyte-test (nothing is written to them: kwok).
for i in $(seq 1 6); do
  kc apply -f - >/dev/null <<PV
apiVersion: v1
kind: PersistentVolume
metadata: {name: flyte-test-pv-$i}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  storageClassName: flyte-test
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /tmp/flyte-test-pv-$i}
PV
done
STORAGE=(--set data.persistence.storageClassName=flyte-test --set postgresql.persistence.storageClassName=flyte-test
         --set manager.persistence.storageClassName=flyte-test)
t=$SECONDS
helm install flyte "$CHART" -n flyte "${STORAGE[@]}" --wait --timeout 5m >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "helm install"; }
echo "  installed and ready in $((SECONDS - t))s"
grep -q "kubectl -n flyte port-forward svc/flyte-flyte-cpp-runs 8090:8090" "$WORK/install.log" || fail "NOTES.txt"
for d in runs queue executor; do
  [ "$(kc -n flyte get deploy "flyte-flyte-cpp-$d" -o jsonpath='{.status.readyReplicas}')" = 2 ] || fail "$d not 2 ready"
done
[ "$(kc -n flyte get sts flyte-flyte-cpp-postgresql -o jsonpath='{.status.readyReplicas}')" = 1 ] || fail "postgresql not ready"
[ "$(kc -n flyte get pvc -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | sort -u)" = Bound ] || fail "claims not bound"
kc -n flyte get pdb flyte-flyte-cpp-runs >/dev/null || fail "no PodDisruptionBudget"

step "the chart's ServiceAccounts may do their service's work and nothing more"
can() { kc auth can-i "$1" "$2" -n "$3" --as="system:serviceaccount:flyte:flyte-flyte-cpp-$4" 2>/dev/null || true; }
for yes in "create taskactions.flyte.org flyte queue" "deletecollection taskactions.flyte.org flyte queue" \
           "watch taskactions.flyte.org flyte executor" "delete pods flyte executor" \
           "create pods flyte executor" "update leases.coordination.k8s.io flyte executor" \
           "create secrets flyte executor" "delete secrets flyte executor"; do
  # shellcheck disable=SC2086
  [ "$(can $yes)" = yes ] || fail "can-i $yes: no"
done
for no in "get secrets flyte queue" "list secrets flyte executor" "watch secrets flyte executor" \
          "create secrets default executor" "get secrets flyte runs" "list pods flyte runs" \
          "create taskactions.flyte.org flyte runs" "create pods flyte queue" "create taskactions.flyte.org flyte executor" \
          "create pods default executor" "list taskactions.flyte.org default queue" "get configmaps flyte executor" \
          "create pods flyte task" "list taskactions.flyte.org flyte task"; do
  # shellcheck disable=SC2086
  [ "$(can $no)" = no ] || fail "a ServiceAccount may do more than it needs: can-i $no"
done
echo "  8 allowed, 14 refused as expected"

step "helm upgrade with a changed value rolls every Deployment"
pw0=$(kc -n flyte get secret flyte-flyte-cpp-db -o jsonpath='{.data.password}')
tok0=$(kc -n flyte get secret flyte-flyte-cpp-internal -o jsonpath='{.data.token}')
for d in runs queue executor; do
  kc -n flyte get deploy "flyte-flyte-cpp-$d" -o jsonpath='{.spec.template.metadata.annotations.checksum/config}' >"$WORK/before-$d"
done
t=$SECONDS
helm upgrade flyte "$CHART" -n flyte "${STORAGE[@]}" --set logLevel=5 --wait --timeout 5m >"$WORK/upgrade.log" 2>&1 ||
  { cat "$WORK/upgrade.log" >&2; fail "helm upgrade"; }
echo "  upgraded and rolled out in $((SECONDS - t))s"
for d in runs queue executor; do
  after=$(kc -n flyte get deploy "flyte-flyte-cpp-$d" -o jsonpath='{.spec.template.metadata.annotations.checksum/config}')
  [ "$after" != "$(cat "$WORK/before-$d")" ] || fail "$d: the config checksum did not change"
  [ "$(kc -n flyte get rs -l "app.kubernetes.io/component=$d" -o name | wc -l)" = 2 ] || fail "$d: no new ReplicaSet"
  [[ $(kc -n flyte get configmap "flyte-flyte-cpp-$d" -o jsonpath='{.data.config\.yaml}') == *"level: 5"* ]] || fail "$d: config not updated"
  kc -n flyte rollout status "deploy/flyte-flyte-cpp-$d" --timeout=60s >/dev/null || fail "$d rollout"
done
[ -n "$pw0" ] && [ "$(kc -n flyte get secret flyte-flyte-cpp-db -o jsonpath='{.data.password}')" = "$pw0" ] ||
  fail "the generated database password changed on upgrade"
[ "$(echo "$tok0" | base64 -d | wc -c)" -ge 32 ] && [ "$(kc -n flyte get secret flyte-flyte-cpp-internal -o jsonpath='{.data.token}')" = "$tok0" ] ||
  fail "the generated internal token is missing or changed on upgrade"
echo "  every Deployment has a new ReplicaSet; the generated database password and internal token were kept (lookup)"

step "helm upgrade --wait fails when the new Pods never become ready (so the waits above mean something)"
# kwok keeps these Pods waiting on an image pull (tests/k8s/kwok-stages.yaml): never Ready, as with a bad image.
if helm upgrade flyte "$CHART" -n flyte "${STORAGE[@]}" --set logLevel=5 \
     --set-string 'queueService.podAnnotations.kwok\.flyte\.test/outcome=image-pull-error' --wait --timeout 10s >"$WORK/out" 2>&1; then
  fail "helm upgrade --wait succeeded although the new queue-service Pods are not ready"
fi
[ "$(kc -n flyte get deploy flyte-flyte-cpp-queue -o jsonpath='{.status.readyReplicas}')" = 2 ] ||
  fail "the old queue-service Pods did not stay ready during the failed rollout (maxUnavailable 0)"
echo "  refused: $(grep -o 'context deadline exceeded\|timed out[^"]*\|resource Deployment/[^ ]* not ready[^"]*' "$WORK/out" | head -1)"

step "helm uninstall keeps the data claims and the CRD"
helm uninstall flyte -n flyte --wait --timeout 2m >/dev/null
[ -z "$(kc -n flyte get deploy,sts,svc,sa,role,rolebinding,configmap -l app.kubernetes.io/instance=flyte -o name)" ] || fail "objects left"
kc -n flyte get pvc flyte-flyte-cpp-data data-flyte-flyte-cpp-postgresql-0 >/dev/null || fail "claims not kept"
kc get crd taskactions.flyte.org >/dev/null || fail "CRD removed"

step "manager mode: helm install --wait, upgrade, uninstall"
kc create namespace flyte-small >/dev/null
helm install small "$CHART" -n flyte-small -f "$CHART/ci/manager-values.yaml" "${STORAGE[@]}" --wait --timeout 5m >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "helm install (manager)"; }
[ "$(kc -n flyte-small get deploy small-flyte-cpp-manager -o jsonpath='{.status.readyReplicas}')" = 1 ] || fail "manager not ready"
[ "$(kc auth can-i create pods -n flyte-small --as=system:serviceaccount:flyte-small:small-flyte-cpp-manager)" = yes ] || fail "manager RBAC"
helm upgrade small "$CHART" -n flyte-small -f "$CHART/ci/manager-values.yaml" "${STORAGE[@]}" --set tasks.retention=2h --wait --timeout 5m >/dev/null
[ "$(kc -n flyte-small get rs -l app.kubernetes.io/component=manager -o name | wc -l)" = 2 ] || fail "manager did not roll"
helm uninstall small -n flyte-small --wait --timeout 2m >/dev/null

step "helm.sh passed in $((SECONDS - T0))s"
