#!/usr/bin/env bash
# Kubernetes mode: the task output cache. Against the REAL test control plane of scripts/k8s-testenv.sh (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler; kwok is the stand-in kubelet) and the real queue-service,
# runs-service (its CacheService on SQLite) and executor.
#
# The executor runs with a data volume (a hostPath PersistentVolume and the claim task Pods mount, mounted by the
# executor at its data root as the Helm chart's is). kwok runs no container, so while kwok keeps a Pod running this
# script plays the container: it writes outputs.pb where the Pod's mounts put the attempt's output prefix.
#   - a cached task runs (a Pod; CACHE_POPULATED, its outputs copied to <data>/.cache); the same task again makes
#     no Pod and ends SUCCEEDED with CACHE_HIT and the first run's outputs;
#   - overwrite_cache runs it again (a Pod) and replaces the entry, which the next run hits;
#   - serialize=True: of two identical runs at once, one makes a Pod while the other waits (Waiting in its
#     TaskAction status), then takes its outputs without a Pod; the executor is killed (-9) and restarted while
#     they run and wait: the new one goes on from what their TaskActions record.
set -euo pipefail
source "$(dirname "$0")/lib/stack.sh"
source "$(dirname "$0")/lib/k8s_stack.sh"
NS=flyte-cache-e2e
start_data_volume_stack "$NS"

RUNNING='{"kwok.flyte.test/delay-ms": "4000"}'
ta() { kc -n "$NS" get taskaction "$1" -o jsonpath="$2"; }
pods_of() { kc -n "$NS" get pods -l "flyte.org/taskaction=$1-a0" -o name | wc -l; }
cache_status() { details "$1" | jq -r '.details.action.status.cacheStatus'; }
output() {  # output RUN: the integer its outputs hold
  rpc flyteidl2.workflow.RunService/GetActionData "{\"actionId\":{\"run\":$(run_id "$1"),\"name\":\"a0\"}}" \
    >"$WORK/data.json" ||
    fail "GetActionData $1: $(cat "$WORK/data.json")"
  jq -r '.outputs.literals[0].value.scalar.primitive.integer' "$WORK/data.json"
}
# play_task RUN VALUE: once the run's Pod runs, the container's work: outputs.pb holding o0=VALUE at its output prefix.
play_task() {
  wait_phase "$1" ACTION_PHASE_RUNNING 60
  "$PY" - "$WORK/data/$PROJECT/$DOMAIN/$1/a0/1/outputs.pb" "$2" <<'PY'
import os, sys
from flyteidl2.core import literals_pb2
from flyteidl2.task import common_pb2
value = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=int(sys.argv[2]))))
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
out = common_pb2.Outputs(literals=[common_pb2.NamedLiteral(name="o0", value=value)])
open(sys.argv[1], "wb").write(out.SerializeToString())
PY
}

step "a cached task runs once: a Pod, CACHE_POPULATED, its outputs copied into the cache on the data volume"
CACHED='{"discoverable": true, "discoveryVersion": "1"}'
pod_run c1 "$RUNNING" "$CACHED" >/dev/null || fail "CreateRun c1: $(cat "$WORK/rpc.out")"
play_task c1 41
wait_phase c1 ACTION_PHASE_SUCCEEDED 60
[ "$(cache_status c1)" = CACHE_POPULATED ] || fail "c1: expected CACHE_POPULATED: $(details c1)"
[ "$(ta c1-a0 '{.status.cacheStatus}')" = Populated ] || fail "c1's TaskAction status: $(ta c1-a0 '{.status}')"
[ "$(pods_of c1)" = 1 ] || fail "c1: expected one Pod"
ls "$WORK"/data/.cache/*/c1-a0-1/outputs.pb >/dev/null 2>&1 || fail "no copy of c1's outputs under $WORK/data/.cache"
[ "$(output c1)" = 41 ] || fail "c1's outputs: $(cat "$WORK/data.json")"

step "the same task again: no Pod, SUCCEEDED with CACHE_HIT and the first run's outputs"
pod_run c2 "$RUNNING" "$CACHED" >/dev/null || fail "CreateRun c2: $(cat "$WORK/rpc.out")"
wait_phase c2 ACTION_PHASE_SUCCEEDED 30
[ "$(cache_status c2)" = CACHE_HIT ] || fail "c2: expected CACHE_HIT: $(details c2)"
[ "$(pods_of c2)" = 0 ] || fail "c2: a cache hit made a Pod: $(kc -n "$NS" get pods -o name)"
[ "$(ta c2-a0 '{.status.phase}/{.status.cacheStatus}')" = Succeeded/Hit ] ||
  fail "c2's TaskAction status: $(ta c2-a0 '{.status}')"
ta c2-a0 '{.status.outputsUri}' | grep -q "^file://$WORK/data/.cache/.*/c1-a0-1$" ||
  fail "c2's outputsUri is not c1's cached copy: $(ta c2-a0 '{.status.outputsUri}')"
[ "$(output c2)" = 41 ] || fail "c2's outputs are not c1's: $(cat "$WORK/data.json")"
details c2 | grep -q "outputs taken from the task cache (key [0-9a-f]*, version 1): nothing ran" ||
  fail "c2's cluster events do not say where its outputs came from: $(details c2)"

step "overwrite_cache: a Pod runs again and its outputs replace the entry; the next run hits them"
pod_run c3 "$RUNNING" "$CACHED" '{}' '{"cacheConfig": {"overwriteCache": true}}' >/dev/null ||
  fail "CreateRun c3: $(cat "$WORK/rpc.out")"
play_task c3 42
wait_phase c3 ACTION_PHASE_SUCCEEDED 60
[ "$(pods_of c3)" = 1 ] || fail "c3 (overwrite_cache): expected a Pod"
[ "$(cache_status c3)" = CACHE_POPULATED ] || fail "c3: expected CACHE_POPULATED: $(details c3)"
pod_run c4 "$RUNNING" "$CACHED" >/dev/null || fail "CreateRun c4: $(cat "$WORK/rpc.out")"
wait_phase c4 ACTION_PHASE_SUCCEEDED 30
[ "$(cache_status c4)/$(pods_of c4)/$(output c4)" = CACHE_HIT/0/42 ] ||
  fail "c4: expected CACHE_HIT, no Pod, c3's outputs (42): $(cache_status c4)/$(pods_of c4)/$(output c4)"

step "serialize=True: of two identical runs one makes a Pod, the other waits (kill -9 of the executor meanwhile)"
SERIAL='{"discoverable": true, "discoveryVersion": "2", "cacheSerializable": true}'
pod_run s1 '{"kwok.flyte.test/delay-ms": "8000"}' "$SERIAL" >/dev/null || fail "CreateRun s1: $(cat "$WORK/rpc.out")"
pod_run s2 '{"kwok.flyte.test/delay-ms": "8000"}' "$SERIAL" >/dev/null || fail "CreateRun s2: $(cat "$WORK/rpc.out")"
holder="" waiter=""
for _ in $(seq 1 300); do
  for r in s1 s2; do
    case "$(ta $r-a0 '{.status.cacheReservation}' 2>/dev/null)" in Held) holder=$r ;; Waiting) waiter=$r ;; esac
  done
  [ -n "$holder" ] && [ -n "$waiter" ] && break
  sleep 0.1
done
[ -n "$holder" ] && [ -n "$waiter" ] ||
  fail "expected one holder and one waiter: s1 $(ta s1-a0 '{.status}'); s2 $(ta s2-a0 '{.status}')"
[ "$(pods_of "$waiter")" = 0 ] || fail "the waiter $waiter made a Pod"
wait_phase "$waiter" ACTION_PHASE_INITIALIZING 30
play_task "$holder" 7
# kill -9 of the executor now: the next one reads the decision, the reservation and the wait from the TaskActions.
stop executor KILL
start executor
wait_phase "$holder" ACTION_PHASE_SUCCEEDED 60
wait_phase "$waiter" ACTION_PHASE_SUCCEEDED 60
got="$(cache_status "$holder")/$(pods_of "$holder")/$(output "$holder")"
[ "$got" = CACHE_POPULATED/1/7 ] || fail "holder $holder: expected CACHE_POPULATED, one Pod, 7: $got"
got="$(cache_status "$waiter")/$(pods_of "$waiter")/$(output "$waiter")"
[ "$got" = CACHE_HIT/0/7 ] || fail "waiter $waiter: expected CACHE_HIT, no Pod, 7: $got"
[ -z "$(ta "$holder-a0" '{.status.cacheReservation}')$(ta "$waiter-a0" '{.status.cacheReservation}')" ] ||
  fail "a reservation is still recorded after both ended"
echo "  s1/s2: $holder ran (CACHE_POPULATED), $waiter waited across an executor restart and took them (CACHE_HIT)"

echo "kubernetes cache e2e: OK"
