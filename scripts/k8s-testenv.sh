#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (a stand-in kubelet: it moves Pods on fake Nodes through their phases as Stage objects
# say; nothing runs in them). Everything is built from the Go module proxy, once, into a cache directory named by
# version; only missing binaries are built.
#
#   scripts/k8s-testenv.sh build          build what is missing (cold: ~21 CPU-minutes; warm: nothing)
#   scripts/k8s-testenv.sh bin            print the directory holding the binaries (after build)
#   scripts/k8s-testenv.sh up             start the control plane; last stdout line: the admin kubeconfig path
#   scripts/k8s-testenv.sh down           stop exactly the processes `up` started (K8S_WIPE=1 also deletes state)
#
# Environment:
#   K8S_TESTENV_DIR   state directory (PKI, etcd data, logs, pid files, kubeconfigs); default /tmp/flyte-k8s-testenv
#   K8S_TOOLS_CACHE   binary cache; default ${XDG_CACHE_HOME:-$HOME/.cache}/flyte-cpp/k8s-tools
#   K8S_KWOK_STAGES   kwok Stage file; default tests/k8s/kwok-stages.yaml
#   K8S_NODES         number of fake Nodes (default 1)
#   K8S_WITH_HELM=1   `build` also builds helm
# Test servers bind 127.0.0.1 on free ports. The Pod addresses kwok writes into Pod status are fake: never send
# traffic to them. Nodes' InternalIP is 127.0.0.1 with kwok's port as the kubelet port: the API server reaches kwok
# there for pods/log (every container's log is $K8S_TESTENV_DIR/pod-logs.cri, which tests write).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
source "$HERE/scripts/versions.env"
CACHE=${K8S_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flyte-cpp/k8s-tools}
STATE=${K8S_TESTENV_DIR:-/tmp/flyte-k8s-testenv}
STAGES=${K8S_KWOK_STAGES:-$HERE/tests/k8s/kwok-stages.yaml}
NODES=${K8S_NODES:-1}
K8S_STAGING=v0.${K8S_VERSION#1.}

# One directory per component and version: a version bump builds only what changed.
bin_dir() { echo "$CACHE/$1-$2"; }
ETCD_BIN=$(bin_dir etcd "$ETCD_VERSION")/etcd
KWOK_BIN=$(bin_dir kwok "$KWOK_VERSION")/kwok
HELM_BIN=$(bin_dir helm "$HELM_VERSION")/helm
K8S_DIR=$(bin_dir kubernetes "v$K8S_VERSION")
K8S_CMDS="kube-apiserver kube-controller-manager kube-scheduler kubectl"

log() { echo "[k8s-testenv] $*" >&2; }

build() {
  command -v go >/dev/null || { log "go (1.25 or newer) is required to build the control plane from the Go module proxy"; exit 1; }
  local gov
  gov=$(go env GOVERSION | sed 's/^go//')
  case $gov in 1.2[5-9]* | 1.[3-9]* | [2-9].*) ;; *) log "go $gov is too old to build Kubernetes v$K8S_VERSION (1.25 or newer)"; exit 1 ;; esac
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  local work="$CACHE/.work" t0=$SECONDS
  mkdir -p "$work"
  if [ ! -x "$ETCD_BIN" ]; then
    # etcd's own go.mod carries replace directives, so `go install` refuses it: build it through a wrapper module.
    rm -rf "$work/etcd"; mkdir -p "$work/etcd"
    ( cd "$work/etcd"
      printf 'module flytecpp/etcdwrap\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
      printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
      go mod tidy
      go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp" go.etcd.io/etcd/server/v3 )
    mv "$ETCD_BIN.tmp" "$ETCD_BIN"; log "etcd $ETCD_VERSION built (+$((SECONDS - t0))s)"
  fi
  local missing=""
  for c in $K8S_CMDS; do [ -x "$K8S_DIR/$c" ] || missing="$missing $c"; done
  if [ -n "$missing" ]; then
    # k8s.io/kubernetes requires its staging modules at v0.0.0: point each at its published v0.<minor> release.
    # sample-cli-plugin and sample-controller are not published at that version and not imported: local stubs.
    rm -rf "$work/k8s"; mkdir -p "$work/k8s"
    ( cd "$work/k8s"
      { printf 'module flytecpp/k8swrap\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_VERSION"
        for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
                 cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
                 cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt \
                 kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
                 mount-utils pod-security-admission sample-apiserver streaming; do
          printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$K8S_STAGING"
        done
        for m in sample-cli-plugin sample-controller; do printf '\tk8s.io/%s => ./stub/%s\n' "$m" "$m"; done
        printf ')\n'; } > go.mod
      for m in sample-cli-plugin sample-controller; do
        mkdir -p "stub/$m"; printf 'module k8s.io/%s\n\ngo 1.24\n' "$m" > "stub/$m/go.mod"
      done
      { printf '//go:build tools\n\npackage tools\n\nimport (\n'
        for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
          printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"
        done
        printf ')\n'; } > tools.go
      go mod tidy
      local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
      local ldf="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
      ldf="$ldf -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
      ldf="$ldf -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
      mkdir -p "$K8S_DIR"
      for c in $missing; do
        go build -trimpath -ldflags "$ldf" -o "$K8S_DIR/$c.tmp" "k8s.io/kubernetes/cmd/$c"
        mv "$K8S_DIR/$c.tmp" "$K8S_DIR/$c"; log "$c v$K8S_VERSION built (+$((SECONDS - t0))s)"
      done )
  fi
  if [ ! -x "$KWOK_BIN" ]; then
    mkdir -p "$(dirname "$KWOK_BIN")"
    GOBIN="$(dirname "$KWOK_BIN")" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    log "kwok $KWOK_VERSION built (+$((SECONDS - t0))s)"
  fi
  if [ "${K8S_WITH_HELM:-0}" = 1 ] && [ ! -x "$HELM_BIN" ]; then
    mkdir -p "$(dirname "$HELM_BIN")"
    GOBIN="$(dirname "$HELM_BIN")" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
    log "helm $HELM_VERSION built (+$((SECONDS - t0))s)"
  fi
  # A directory of links so callers need one PATH entry.
  mkdir -p "$CACHE/bin"
  ln -sf "$ETCD_BIN" "$CACHE/bin/etcd"; ln -sf "$KWOK_BIN" "$CACHE/bin/kwok"
  for c in $K8S_CMDS; do ln -sf "$K8S_DIR/$c" "$CACHE/bin/$c"; done
  [ -x "$HELM_BIN" ] && ln -sf "$HELM_BIN" "$CACHE/bin/helm"
  log "binaries ready in $CACHE/bin (+$((SECONDS - t0))s)"
}

# free_ports N: N distinct free loopback ports. All are held open until all are chosen: ports picked one at a time
# can repeat (the kernel may hand a just-closed port out again), and two components then race for one port.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

wait_for() {  # wait_for <seconds> <what> <command...>
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then
      log "timed out waiting for $what; last log lines:"; tail -n 20 "$STATE"/logs/*.log >&2 || true; exit 1
    fi
    sleep 0.1
  done
}

start() {  # start <name> <command...>: background process, its log and pid file in $STATE
  local name=$1; shift
  "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name"
}

pki() {
  local d=$STATE/pki
  [ -f "$d/sa.pub" ] && return
  mkdir -p "$d"
  ( cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=flyte-testenv-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" > server.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile server.ext
    printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" > client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=flyte-testenv-admin"
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > admin.token
    echo "$(cat admin.token),flyte-testenv-admin,flyte-testenv-admin,system:masters" > tokens.csv
  ) >"$STATE/logs/pki.log" 2>&1
}

up() {
  [ -x "$CACHE/bin/kube-apiserver" ] || build
  local B=$CACHE/bin
  if [ -f "$STATE/pids/kube-apiserver" ] && kill -0 "$(cat "$STATE/pids/kube-apiserver")" 2>/dev/null; then
    log "already up"; echo "$STATE/admin.kubeconfig"; return
  fi
  mkdir -p "$STATE"/{logs,pids}
  pki
  local P=$STATE/pki
  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port
  read -r etcd_port etcd_peer api_port kcm_port sched_port kwok_port <<<"$(free_ports 6)"
  api_port=${K8S_API_PORT:-$api_port}
  echo "$api_port" > "$STATE/api-port"
  local kc=$STATE/admin.kubeconfig kk="$B/kubectl"
  "$kk" config set-cluster testenv --server="https://127.0.0.1:$api_port" --certificate-authority="$P/ca.crt" --embed-certs --kubeconfig="$kc" >/dev/null
  "$kk" config set-credentials admin --client-certificate="$P/admin.crt" --client-key="$P/admin.key" --embed-certs --kubeconfig="$kc" >/dev/null
  "$kk" config set-context testenv --cluster=testenv --user=admin --kubeconfig="$kc" >/dev/null
  "$kk" config use-context testenv --kubeconfig="$kc" >/dev/null
  # The same cluster with the admin bearer token instead of the client certificate.
  local kt=$STATE/token.kubeconfig
  "$kk" config set-cluster testenv --server="https://127.0.0.1:$api_port" --certificate-authority="$P/ca.crt" --embed-certs --kubeconfig="$kt" >/dev/null
  "$kk" config set-credentials admin --token="$(cat "$P/admin.token")" --kubeconfig="$kt" >/dev/null
  "$kk" config set-context testenv --cluster=testenv --user=admin --kubeconfig="$kt" >/dev/null
  "$kk" config use-context testenv --kubeconfig="$kt" >/dev/null

  start etcd "$B/etcd" --name testenv --data-dir "$STATE/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "testenv=http://127.0.0.1:$etcd_peer" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --log-level=warn
  echo "$etcd_port" > "$STATE/etcd-port"
  wait_for 60 etcd curl -sf "http://127.0.0.1:$etcd_port/readyz"
  start_apiserver
  wait_for 120 kube-apiserver curl -sf --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "https://127.0.0.1:$api_port/readyz"
  # Client rate limits off for the controller-manager and scheduler (their defaults, 20 and 50 requests/s, would
  # pace every test and benchmark here; a real cluster's control plane is sized for its load).
  start kube-controller-manager "$B/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
    --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
    --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
    --service-cluster-ip-range=10.96.0.0/16 --use-service-account-credentials=false --v=1 \
    --kube-api-qps=5000 --kube-api-burst=10000
  # Pod admission needs the namespace's `default` ServiceAccount, which the controller-manager makes.
  wait_for 120 kube-controller-manager "$kk" --kubeconfig="$kc" -n default get serviceaccount default
  start kube-scheduler "$B/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$sched_port" --leader-elect=false --v=1 \
    --kube-api-qps=5000 --kube-api-burst=10000
  wait_for 60 kube-scheduler curl -skf "https://127.0.0.1:$sched_port/healthz"
  # kwok also serves the kubelet's containerLogs API (HTTPS on 127.0.0.1:$kwok_port, the Nodes' InternalIP and
  # kubelet port), so GET pods/<pod>/log goes through the API server as on a real cluster: every container's log is
  # the CRI-format file $STATE/pod-logs.cri ("<RFC 3339 time> stdout|stderr F <line>"), which tests write.
  : > "$STATE/pod-logs.cri"
  { cat "$STAGES"; printf -- '---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata: {name: flyte-test-logs}\nspec:\n  selector: {}\n  logs:\n  - logsFile: %s\n    follow: true\n' "$STATE/pod-logs.cri"; } > "$STATE/kwok.yaml"
  start kwok "$B/kwok" --kubeconfig="$kc" --config="$STATE/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr=10.244.0.1/16 --node-ip=127.0.0.1 --node-port="$kwok_port" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
    --server-address="127.0.0.1:$kwok_port"
  for i in $(seq 0 $((NODES - 1))); do
    "$kk" --kubeconfig="$kc" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "2000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "2000"}
NODE
  done
  wait_for 60 "kwok nodes" "$kk" --kubeconfig="$kc" wait --for=condition=Ready node --all --timeout=1s
  log "control plane up: KUBECONFIG=$kc (token: $kt)"
  echo "$kc"
}

# ConfigMaps are served without the watch cache (straight from etcd), so a client test can compact etcd and see a
# watch from an older resourceVersion answered 410 Gone at once; everything else keeps the usual cache.
# ConfigMaps are served without the watch cache (straight from etcd), so a client test can compact etcd and see a
# watch from an older resourceVersion answered 410 Gone at once; everything else keeps the usual cache.
start_apiserver() {
  local P=$STATE/pki
  start kube-apiserver "$CACHE/bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$(cat "$STATE/etcd-port")" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$(cat "$STATE/api-port")" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
    --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --profiling=false --v=1 --kubelet-preferred-address-types=InternalIP \
    --watch-cache-sizes=configmaps#0 ${K8S_APISERVER_FLAGS:-}
}

# Restart only kube-apiserver (tests of a client riding out an API server restart).
restart_apiserver() {
  stop_one kube-apiserver
  start_apiserver
  local P=$STATE/pki
  wait_for 120 kube-apiserver curl -sf --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "https://127.0.0.1:$(cat "$STATE/api-port")/readyz"
}

stop_one() {
  local f=$STATE/pids/$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p"
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p"
  fi
  rm -f "$f"
}

down() {
  for n in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_one "$n"; done
  if [ "${K8S_WIPE:-0}" = 1 ]; then rm -rf "$STATE"; fi
  return 0
}

case "${1:-}" in
  build) build ;;
  bin) echo "$CACHE/bin" ;;
  up) up ;;
  down) down ;;
  restart-apiserver) restart_apiserver ;;
  *) echo "usage: $0 build|bin|up|down|restart-apiserver" >&2; exit 2 ;;
esac
