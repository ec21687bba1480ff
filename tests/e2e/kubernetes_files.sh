#!/usr/bin/env bash
# Kubernetes mode: a file or directory a task leaves in its /tmp and names in its outputs (what the SDK's in-task
# File.from_local / Dir.from_local do when the raw-data prefix is file://) is readable by any later task on any
# node. Against the REAL test control plane of scripts/k8s-testenv.sh (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler; kwok is the stand-in kubelet).
#
# The executor runs with a data volume: a hostPath PersistentVolume and the claim task Pods mount, bound by
# kube-controller-manager (the scheduler places no Pod whose claim is unbound). The task Pod's /tmp must then be its
# attempt's <attempt dir>/tmp on that volume (a subPath mount), and on success the outputs must name the file by
# its path on the volume. kwok runs no container, so while kwok keeps the Pod running this script plays the
# container: it writes, where the Pod's mounts put them on the volume, the file under <attempt dir>/tmp/ and
# outputs.pb naming /tmp/<file> (encoded with the .venv's flyteidl2 package, as the SDK writes it).
set -euo pipefail
source "$(dirname "$0")/lib/stack.sh"
source "$(dirname "$0")/lib/k8s_stack.sh"
NS=flyte-files-e2e
start_data_volume_stack "$NS"

step "a task that leaves a file and a directory in its /tmp and names them (and a path elsewhere) in its outputs"
pod_run fl1 '{"kwok.flyte.test/delay-ms": "6000"}' >/dev/null || fail "CreateRun fl1: $(cat "$WORK/rpc.out")"
wait_phase fl1 ACTION_PHASE_RUNNING 60
attempt=$WORK/data/$PROJECT/$DOMAIN/fl1/a0/1
# The container's work, done where its mounts put it: /tmp is <attempt>/tmp, the output prefix is <attempt>.
mkdir -p "$attempt/tmp/frames"
echo "made in the task's /tmp" >"$attempt/tmp/report.txt"
echo "a,b" >"$attempt/tmp/frames/part-0.csv"
"$PY" - "$attempt/outputs.pb" <<'PY'
import sys
from flyteidl2.core import literals_pb2, types_pb2
from flyteidl2.task import common_pb2

def blob(uri, dim):
    meta = literals_pb2.BlobMetadata(type=types_pb2.BlobType(format="", dimensionality=dim))
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(metadata=meta, uri=uri)))

single, multi = types_pb2.BlobType.SINGLE, types_pb2.BlobType.MULTIPART
out = common_pb2.Outputs(literals=[
    common_pb2.NamedLiteral(name="o0", value=blob("/tmp/report.txt", single)),       # File.from_local: bare path
    common_pb2.NamedLiteral(name="o1", value=blob("file:///tmp/frames", multi)),     # Dir: a file:// uri
    common_pb2.NamedLiteral(name="o2", value=blob("/home/task/elsewhere.txt", single)),  # gone with the Pod
])
open(sys.argv[1], "wb").write(out.SerializeToString())
PY
wait_phase fl1 ACTION_PHASE_SUCCEEDED 60

step "the run's outputs name the files by their path on the data volume, and their content is there"
rpc flyteidl2.workflow.RunService/GetActionData "{\"actionId\":{\"run\":$(run_id fl1),\"name\":\"a0\"}}" >"$WORK/data.json" ||
  fail "GetActionData: $(cat "$WORK/data.json")"
uri() { jq -r --arg n "$1" '.outputs.literals[] | select(.name == $n) | .value.scalar.blob.uri' "$WORK/data.json"; }
[ "$(uri o0)" = "$attempt/tmp/report.txt" ] || fail "o0 names $(uri o0), not $attempt/tmp/report.txt: $(cat "$WORK/data.json")"
[ "$(cat "$(uri o0)")" = "made in the task's /tmp" ] || fail "o0's content is not there"
[ "$(uri o1)" = "$attempt/tmp/frames" ] || fail "o1 names $(uri o1), not $attempt/tmp/frames"
[ "$(cat "$(uri o1)/part-0.csv")" = "a,b" ] || fail "o1's content is not there"
[ "$(uri o2)" = /home/task/elsewhere.txt ] || fail "o2 (outside /tmp and the data root) was changed: $(uri o2)"
events=$(details fl1 | jq -r '[.details.action.attempts[]?.clusterEvents[]?.message] | join("\n")')
grep -q "2 output file(s) in the Pod's /tmp named by their path on the data volume" <<<"$events" ||
  fail "the cluster events do not say what was renamed: $events"
grep -q "1 output file(s) left as written: they name paths in the Pod outside /tmp and the data root" <<<"$events" ||
  fail "the cluster events do not say what was left and why: $events"

step "the Pod's /tmp was the attempt's own directory on the data volume, made world-writable before the Pod"
pod() { kc -n "$NS" get pod fl1-a0-1 -o jsonpath="$1"; }
[ "$(pod '{.spec.volumes[?(@.name=="flyte-data")].persistentVolumeClaim.claimName}')" = flyte-data ] ||
  fail "the Pod does not mount the claim: $(pod '{.spec.volumes}')"
[ "$(pod '{.spec.containers[0].volumeMounts[?(@.mountPath=="/tmp")].name}')" = flyte-data ] ||
  fail "no /tmp mount of the data volume: $(pod '{.spec.containers[0].volumeMounts}')"
[ "$(pod '{.spec.containers[0].volumeMounts[?(@.mountPath=="/tmp")].subPath}')" = "$PROJECT/$DOMAIN/fl1/a0/1/tmp" ] ||
  fail "the /tmp mount's subPath is not the attempt's tmp: $(pod '{.spec.containers[0].volumeMounts}')"
[ "$(stat -c %a "$attempt/tmp")" = 1777 ] || fail "$attempt/tmp has mode $(stat -c %a "$attempt/tmp"), not 1777"
echo "  fl1: /tmp = subPath $PROJECT/$DOMAIN/fl1/a0/1/tmp of flyte-data; o0, o1 renamed to the volume, o2 left"

echo "kubernetes files e2e: OK"
