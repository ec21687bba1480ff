#!/usr/bin/env bash
# Kubernetes mode: the secrets a task declares reach its Pod, against the REAL test control plane of
# scripts/k8s-testenv.sh (etcd, kube-apiserver, kube-controller-manager, kube-scheduler; kwok is the stand-in
# kubelet) with the executor on its least-privilege ServiceAccount (the Helm chart's Role):
#   1. a secret made with runs-service's SecretService (Connect JSON, as `flyte create secret` does) and a task
#      declaring it as an env var and as a file: the attempt's Secret <pod>-secrets holds the value, owned by the
#      TaskAction; the Pod refers to it (env valueFrom.secretKeyRef; a secret volume, defaultMode 0400, at
#      /etc/flyte/secrets = FLYTE_SECRETS_DEFAULT_DIR); no value in the Pod or any log; the Secret is deleted
#      when the attempt ends; a restarted executor (kill -9) keeps both, makes neither again;
#   2. a task declaring a secret that does not exist: FAILED naming it, no Pod, no Secret;
#   3. runs-service's internal SecretResolveService with runs.internalToken set: refused without the token
#      (UNAUTHENTICATED) and with a wrong one (PERMISSION_DENIED); the executor's token works.
set -euo pipefail
source "$(dirname "$0")/lib/stack.sh"
source "$(dirname "$0")/lib/k8s_stack.sh"

step "starting the test control plane"
k8s_up
NS=flyte-secrets-e2e
setup_namespace "$NS" || fail "namespace $NS"
token_kubeconfig flyte-queue "$NS" "$WORK/queue.kubeconfig"
token_kubeconfig flyte-executor "$NS" "$WORK/executor.kubeconfig"
can() { kc auth can-i "$1" "$2" -n "$NS" --as="system:serviceaccount:$NS:flyte-executor" || true; }
for verb in create get delete; do [ "$(can "$verb" secrets)" = yes ] || fail "the executor may not $verb Secrets"; done
for verb in list watch update; do [ "$(can "$verb" secrets)" = no ] || fail "the executor may $verb Secrets"; done

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$WORK/internal-token"
write_kube_configs "$NS" "$WORK/executor.kubeconfig"
sed -i "s|^runs:$|runs:\n  internalTokenPath: \"$WORK/internal-token\"|" "$WORK/runs.yaml"
sed -i "s|^executor:$|executor:\n  internalTokenPath: \"$WORK/internal-token\"|" "$WORK/executor.yaml"
start queue
start runs
start executor

step "secrets made with SecretService"
secret() {
  rpc flyteidl2.secret.SecretService/CreateSecret "$(jq -cn --arg o "$ORG" --arg p "$PROJECT" --arg d "$DOMAIN" \
    --arg n "$1" --arg v "$2" '{id: {organization: $o, project: $p, domain: $d, name: $n}, secretSpec: {stringValue: $v}}')" \
    >/dev/null || fail "CreateSecret $1: $(cat "$WORK/rpc.out")"
}
secret db-pass 'pa55-env-V4lue'
secret tls-cert 'cert-f1le-V4lue'
SECRETS='{"securityContext": {"secrets": [{"key": "db-pass", "envVar": "DB_PASS", "mountRequirement": "ENV_VAR"},
                                          {"key": "tls-cert", "mountRequirement": "FILE"}]}}'

step "a task declaring one as an env var and one as a file: the Pod refers to the attempt's Secret"
pod_run sec1 '{"kwok.flyte.test/outcome": "run"}' '{}' "$SECRETS" >/dev/null || fail "CreateRun sec1: $(cat "$WORK/rpc.out")"
wait_phase sec1 ACTION_PHASE_RUNNING 60
POD=sec1-a0-1
SEC=$POD-secrets
pod() { kc -n "$NS" get pod "$POD" -o jsonpath="$1"; }
[ "$(pod '{.spec.containers[0].env[?(@.name=="DB_PASS")].valueFrom.secretKeyRef.name}')" = "$SEC" ] ||
  fail "DB_PASS does not come from Secret $SEC: $(pod '{.spec.containers[0].env}')"
key=$(pod '{.spec.containers[0].env[?(@.name=="DB_PASS")].valueFrom.secretKeyRef.key}')
[ "$(pod '{.spec.containers[0].env[?(@.name=="FLYTE_SECRETS_DEFAULT_DIR")].value}')" = /etc/flyte/secrets ] ||
  fail "FLYTE_SECRETS_DEFAULT_DIR is not /etc/flyte/secrets: $(pod '{.spec.containers[0].env}')"
[ "$(pod '{.spec.volumes[?(@.name=="flyte-secrets")].secret.secretName}')" = "$SEC" ] ||
  fail "no secret volume of $SEC: $(pod '{.spec.volumes}')"
[ "$(pod '{.spec.volumes[?(@.name=="flyte-secrets")].secret.defaultMode}')" = 256 ] ||
  fail "the secret volume's mode is not 0400: $(pod '{.spec.volumes}')"
[ "$(pod '{.spec.volumes[?(@.name=="flyte-secrets")].secret.items[0].path}')" = tls-cert ] ||
  fail "tls-cert is not a file named after its key: $(pod '{.spec.volumes}')"
file_key=$(pod '{.spec.volumes[?(@.name=="flyte-secrets")].secret.items[0].key}')
[ "$(pod '{.spec.containers[0].volumeMounts[?(@.name=="flyte-secrets")].mountPath}')" = /etc/flyte/secrets ] ||
  fail "the secret volume is not mounted at /etc/flyte/secrets: $(pod '{.spec.containers[0].volumeMounts}')"
kc -n "$NS" get pod "$POD" -o json | grep -q "V4lue" && fail "a secret value is in the Pod"
sget() { kc -n "$NS" get secret "$SEC" -o jsonpath="$1"; }
[ "$(sget "{.data.$key}" | base64 -d)" = pa55-env-V4lue ] || fail "Secret $SEC does not hold db-pass under $key"
[ "$(sget "{.data.$file_key}" | base64 -d)" = cert-f1le-V4lue ] || fail "Secret $SEC does not hold tls-cert"
[ "$(sget '{.metadata.ownerReferences[0].uid}')" = "$(kc -n "$NS" get taskaction -l flyte.org/run=sec1 \
  -o jsonpath='{.items[0].metadata.uid}')" ] || fail "Secret $SEC is not owned by its TaskAction"
[ "$(sget '{.metadata.labels.flyte\.org/run}')" = sec1 ] || fail "Secret $SEC lacks the run's label"
echo "  $POD: DB_PASS <- $SEC/$key; /etc/flyte/secrets/tls-cert <- $SEC/$file_key (0400)"

step "kill -9 of the executor: the restarted one keeps the attempt's Pod and Secret (no second of either)"
secret_uid=$(sget '{.metadata.uid}')
pod_uid=$(pod '{.metadata.uid}')
stop executor KILL
start executor
sleep 2  # a resync's worth: the restarted executor has reconciled sec1
[ "$(sget '{.metadata.uid}')" = "$secret_uid" ] || fail "Secret $SEC was made again after the restart"
[ "$(pod '{.metadata.uid}')" = "$pod_uid" ] || fail "Pod $POD was made again after the restart"
[ "$(phase sec1)" = ACTION_PHASE_RUNNING ] || fail "sec1 is $(phase sec1) after the restart"
echo "  same Pod and Secret (uids unchanged), still RUNNING"

step "the attempt ends (its Pod deleted: kwok keeps it running): the Secret goes with it"
kc -n "$NS" delete pod "$POD" --wait=false >/dev/null
wait_phase sec1 ACTION_PHASE_FAILED 60 lenient
for _ in $(seq 1 100); do kc -n "$NS" get secret "$SEC" >/dev/null 2>&1 || break; sleep 0.1; done
kc -n "$NS" get secret "$SEC" >/dev/null 2>&1 && fail "Secret $SEC outlived its attempt"
pod_run sec2 '{"kwok.flyte.test/delay-ms": "1000"}' '{}' "$SECRETS" >/dev/null || fail "CreateRun sec2: $(cat "$WORK/rpc.out")"
wait_phase sec2 ACTION_PHASE_SUCCEEDED 60
kc -n "$NS" get pod sec2-a0-1 >/dev/null || fail "no Pod for sec2"
for _ in $(seq 1 100); do kc -n "$NS" get secret sec2-a0-1-secrets >/dev/null 2>&1 || break; sleep 0.1; done
kc -n "$NS" get secret sec2-a0-1-secrets >/dev/null 2>&1 && fail "Secret sec2-a0-1-secrets outlived its attempt"
echo "  deleted after a failed attempt (sec1) and a successful one (sec2)"

step "a task declaring a secret that does not exist fails naming it, with no Pod and no Secret"
pod_run sec3 '{}' '{}' '{"securityContext": {"secrets": [{"key": "no-such-secret", "envVar": "X"}]}}' >/dev/null ||
  fail "CreateRun sec3: $(cat "$WORK/rpc.out")"
wait_phase sec3 ACTION_PHASE_FAILED 60
msg=$(details sec3 | jq -r '[.. | strings | select(contains("cannot resolve"))][0] // empty')
grep -q "secret no-such-secret not found" <<<"$msg" || fail "the failure does not name the secret: $(details sec3)"
grep -q "SecretNotFound" <<<"$(details sec3)" || fail "the failure is not SecretNotFound: $(details sec3)"
[ "$(kc -n "$NS" get pods -l flyte.org/run=sec3 -o name | wc -l)" = 0 ] || fail "a Pod was made for sec3"
kc -n "$NS" get secret sec3-a0-1-secrets >/dev/null 2>&1 && fail "a Secret was made for sec3"
echo "  sec3: $msg"

step "no secret value in any log"
for f in "$WORK"/*.log; do grep -l "V4lue" "$f" && fail "a secret value is in $f"; done
echo "  none"

step "SecretResolveService: refused without the internal token or with a wrong one, answered with it"
resolve() {  # resolve [TOKEN]: HTTP status; the body in $WORK/resolve.out
  local h=()
  [ -n "${1:-}" ] && h=(-H "flyte-internal-token: $1")
  curl -s -o "$WORK/resolve.out" -w '%{http_code}' -H 'content-type: application/json' "${h[@]}" \
    -d "{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"names\":[\"db-pass\"]}" \
    "http://127.0.0.1:$RUNS_PORT/flyte.internal.secret.v1.SecretResolveService/ResolveSecrets"
}
[ "$(resolve)" = 401 ] || fail "no token: $(cat "$WORK/resolve.out")"
grep -q '"unauthenticated"' "$WORK/resolve.out" && grep -q "none was sent" "$WORK/resolve.out" ||
  fail "no token: $(cat "$WORK/resolve.out")"
[ "$(resolve "not-the-$TOKEN")" = 403 ] || fail "wrong token: $(cat "$WORK/resolve.out")"
grep -q '"permission_denied"' "$WORK/resolve.out" || fail "wrong token: $(cat "$WORK/resolve.out")"
grep -q "V4lue" "$WORK/resolve.out" && fail "a refused call got a value"
[ "$(resolve "$TOKEN")" = 200 ] || fail "the token: $(cat "$WORK/resolve.out")"
[ "$(jq -r '.secrets[0].value' "$WORK/resolve.out" | base64 -d)" = pa55-env-V4lue ] ||
  fail "the token: $(cat "$WORK/resolve.out")"
echo "  no token: 401 unauthenticated; wrong token: 403 permission_denied; the executor's token: the value"

echo "kubernetes secrets e2e: OK"
