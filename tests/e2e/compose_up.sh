#!/usr/bin/env bash
# The image and docker-compose.yaml for real, with podman (no Docker engine and no registry here):
#   1. sandbox fixes podman needs on this machine (containers.conf: ulimits, runc, netavark), applied idempotently;
#   2. a Debian bookworm base made with debootstrap, cached by release + date tag, tagged debian:bookworm-slim when
#      that name is free, so the unchanged Dockerfile builds; a STAND-IN postgres:15 built from it (test only);
#   3. `podman build` of the Dockerfile (timed), reusing layers and the host's ccache (the host build of the same
#      sources seeds it); the image runs as uid/gid 999, every binary answers --help and --validate-config, and
#      flyte-manager started in it answers /healthz on its three ports;
#   4. `docker-compose up -d --no-build` of the shipped docker-compose.yaml through podman's Docker-compatible
#      socket (a loop runs the health checks, which podman leaves to systemd): every service healthy, ports
#      published on 127.0.0.1 only, runs-testclient prints the seed's output, a shell task run SUCCEEDED,
#      `docker-compose restart executor` mid-run loses nothing, `docker-compose down -v` stops and removes it all.
# FLYTE_BUILD_DIR = host build dir (default ./build: runs-testclient and the ccache it filled).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FLYTE_BUILD_DIR:-$ROOT/build}
cd "$ROOT"
T0=$(date +%s)
BASE_TAG=localhost/flyte-cpp-base:bookworm-20261206   # bump the date to rebuild the base
STANDIN_TAG=localhost/flyte-cpp-test-postgres-standin:15
PROJECT_NAME=flytecompose$$
WORK=$(mktemp -d /tmp/flyte-compose-up-XXXXXX)
PIDS=()
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
compose() { docker-compose -p "$PROJECT_NAME" -f "$ROOT/docker-compose.yaml" "$@"; }

cleanup() {
  local rc=$?
  if [ -S "$WORK/podman.sock" ]; then
    if [ $rc -ne 0 ]; then
      echo "--- compose_up.sh FAILED; container logs:" >&2
      compose ps >&2 || true
      compose logs --tail 40 >&2 || true
    fi
    compose down -v --timeout 10 >/dev/null 2>&1 || true
  fi
  podman rm -f "$PROJECT_NAME-manager" >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ $rc -eq 0 ] || { for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done; }
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

for c in podman docker-compose debootstrap curl jq; do
  command -v "$c" >/dev/null || fail "$c not installed (scripts/bootstrap.sh installs it)"
done
[ -x "$BUILD/bin/runs-testclient" ] || fail "$BUILD/bin/runs-testclient not built"
[ "$(id -u)" = 0 ] || fail "needs root (podman as root, debootstrap)"

step "sandbox fixes for podman (containers.conf)"
CONF=/etc/containers/containers.conf
if ! grep -q 'flyte-cpp tests/e2e/compose_up.sh' "$CONF" 2>/dev/null; then
  mkdir -p /etc/containers
  [ -s "$CONF" ] && cp "$CONF" "$CONF.before-flyte-cpp"
  cat >"$CONF" <<'TOML'
# Written by flyte-cpp tests/e2e/compose_up.sh: in this sandbox crun cannot raise RLIMIT_NOFILE and refuses hybrid
# cgroups; runc with fixed ulimits works, and netavark gives user networks with service-name DNS.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
TOML
fi
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}'

step "base image $BASE_TAG (debootstrap once, then cached)"
if ! podman image exists "$BASE_TAG"; then
  t=$(date +%s)
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$WORK/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || fail "debootstrap: $(tail -5 "$WORK/debootstrap.log")"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import -q --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
  rm -rf "$rootfs"
  echo "base image built in $(($(date +%s) - t)) s"
fi
# The Dockerfile says FROM debian:bookworm-slim: give that name to the local base unless a real one is there.
for name in docker.io/library/debian:bookworm-slim localhost/debian:bookworm-slim; do
  podman image exists "$name" || podman tag "$BASE_TAG" "$name"
done

CA=/etc/ssl/certs/ca-certificates.crt
CA_MOUNT=(-v "$CA:/usr/local/share/ca-certificates/host-bundle.crt:ro")

step "STAND-IN postgres:15 (Debian's PostgreSQL 15 behind the official image's variables; test only)"
t=$(date +%s)
podman build -q --format docker --build-arg DEBIAN_IMAGE="$BASE_TAG" -t "$STANDIN_TAG" \
  tests/e2e/lib/postgres-standin >"$WORK/standin.log" 2>&1 || fail "stand-in postgres build: $(tail "$WORK/standin.log")"
echo "stand-in image: $(($(date +%s) - t)) s"
for name in docker.io/library/postgres:15 localhost/postgres:15; do
  if podman image exists "$name"; then
    label=$(podman image inspect --format '{{index .Labels "org.flyte-cpp.test-standin"}}' "$name" 2>/dev/null || true)
    [ "$label" = postgres:15 ] || continue   # a real postgres:15 is left alone and used
  fi
  podman tag "$STANDIN_TAG" "$name"
done

step "podman build of the Dockerfile"
HOST_CCACHE=${CCACHE_DIR:-$HOME/.cache/ccache}
# ccache hashes the locale: scripts/build.sh and the Dockerfile's build stage both compile with LANG=C.UTF-8.
mkdir -p "$HOST_CCACHE"
ccache_counts() {  # hits misses of the host cache (other builds on this machine may add to them meanwhile)
  CCACHE_DIR=$HOST_CCACHE ccache --print-stats | awk '$1 ~ /^(direct|preprocessed)_cache_hit$/ {h += $2}
    $1 == "cache_miss" {m = $2} END {print h + 0, m + 0}'
}
read -r hits0 misses0 < <(ccache_counts)
t=$(date +%s)
podman build --format docker "${CA_MOUNT[@]}" -v "$HOST_CCACHE:/host-ccache" --build-arg CCACHE_DIR=/host-ccache \
  --build-arg JOBS="${JOBS:-2}" -t flyte-cpp:latest . >"$WORK/build.log" 2>&1 \
  || { tail -n 60 "$WORK/build.log" >&2; fail "podman build"; }
BUILD_SECONDS=$(($(date +%s) - t))
read -r hits1 misses1 < <(ccache_counts)
echo "ccache during the build: $((hits1 - hits0)) hits, $((misses1 - misses0)) misses"
size=$(podman image inspect --format '{{.Size}}' flyte-cpp:latest)
echo "image build: ${BUILD_SECONDS} s; flyte-cpp:latest $((size / 1000000)) MB"

step "the image: non-root, every binary starts"
[ "$(podman run --rm flyte-cpp:latest id -u):$(podman run --rm flyte-cpp:latest id -g)" = 999:999 ] \
  || fail "the image does not run as uid/gid 999"
[ "$(podman image inspect --format '{{.Config.User}}' flyte-cpp:latest)" = flyte ] || fail "USER is not flyte"
for b in runs-service queue-service executor flyte-manager; do
  podman run --rm flyte-cpp:latest "$b" --help >"$WORK/help.out" 2>&1 || fail "$b --help: $(cat "$WORK/help.out")"
  podman run --rm -e FLYTE_DB_PASSWORD=x flyte-cpp:latest "$b" --config "/etc/flyte/$b.yaml" --validate-config \
    >"$WORK/validate.out" 2>&1 || fail "$b --validate-config: $(cat "$WORK/validate.out")"
  echo "$b: --help and --validate-config OK"
done
MP=("$(free_port)" "$(free_port)" "$(free_port)")
podman run -d --name "$PROJECT_NAME-manager" -p "127.0.0.1:${MP[0]}:8090" -p "127.0.0.1:${MP[1]}:8089" \
  -p "127.0.0.1:${MP[2]}:8081" flyte-cpp:latest >/dev/null
for p in "${MP[@]}"; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$p/healthz" >/dev/null || fail "flyte-manager in the image: no /healthz on $p: \
$(podman logs "$PROJECT_NAME-manager" 2>&1 | tail -20)"
done
podman stop -t 10 "$PROJECT_NAME-manager" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$PROJECT_NAME-manager")" = 0 ] \
  || fail "flyte-manager did not exit 0 on SIGTERM"
podman rm "$PROJECT_NAME-manager" >/dev/null
echo "flyte-manager in the image: /healthz on its three ports, SIGTERM -> exit 0"

step "docker-compose up through podman's socket"
podman system service --time=0 "unix://$WORK/podman.sock" >"$WORK/podman-service.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$WORK/podman.sock" ] && break; sleep 0.1; done
export DOCKER_HOST="unix://$WORK/podman.sock"
# podman hands health checks to systemd timers, which do not run here: run them every 2 s instead.
(while true; do
  for c in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT_NAME"); do
    podman healthcheck run "$c" >/dev/null 2>&1 || true
  done
  sleep 2
done) >/dev/null 2>&1 &
PIDS+=($!)
RUNS_PORT=$(free_port) QUEUE_PORT=$(free_port) EXEC_PORT=$(free_port)
export FLYTE_RUNS_PORT=$RUNS_PORT FLYTE_QUEUE_PORT=$QUEUE_PORT FLYTE_EXECUTOR_PORT=$EXEC_PORT FLYTE_DB_PASSWORD=compose-test
t=$(date +%s)
timeout 300 docker-compose -p "$PROJECT_NAME" -f docker-compose.yaml up -d --no-build >"$WORK/up.log" 2>&1 \
  || fail "docker-compose up: $(tail -20 "$WORK/up.log")"
for svc in postgres queue-service runs-service executor; do
  for _ in $(seq 1 120); do
    st=$(podman inspect --format '{{.State.Health.Status}}' "$(compose ps -q "$svc")" 2>/dev/null || true)
    [ "$st" = healthy ] && break
    sleep 1
  done
  [ "$st" = healthy ] || fail "$svc is '$st', not healthy"
done
echo "every service healthy $(($(date +%s) - t)) s after up"
# Published on 127.0.0.1 only.
for svc in queue-service runs-service executor; do
  podman port "$(compose ps -q "$svc")" >"$WORK/ports"   # lines "8090/tcp -> 127.0.0.1:53471"
  [ -s "$WORK/ports" ] || fail "$svc publishes no port"
  ! grep -v -- '-> 127\.0\.0\.1:' "$WORK/ports" || fail "$svc publishes beyond 127.0.0.1"
done
[ -z "$(podman port "$(compose ps -q postgres)")" ] || fail "postgres must not publish a port"
for svc in postgres queue-service runs-service executor; do
  nets=$(podman inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(compose ps -q "$svc")")
  [ "$nets" = "${PROJECT_NAME}_default " ] || fail "$svc is on networks '$nets', not only ${PROJECT_NAME}_default"
done
for p in "$RUNS_PORT" "$QUEUE_PORT" "$EXEC_PORT"; do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null \
  || fail "no /healthz on 127.0.0.1:$p"; done

rpc() {
  local code
  code=$(curl -s -o "$WORK/rpc.out" -w '%{http_code}' -H 'content-type: application/json' -d "$2" \
    "http://127.0.0.1:$RUNS_PORT/$1") || true
  cat "$WORK/rpc.out"
  [ "$code" = 200 ]
}
run_id() { printf '{"org":"testorg","project":"proj","domain":"development","name":"%s"}' "$1"; }
create_run() {
  rpc flyteidl2.workflow.RunService/CreateRun "$(jq -cn --argjson id "$(run_id "$1")" --arg cmd "$2" \
    '{runId: $id, taskSpec: {shortName: "t", taskTemplate: {id: {name: "t", version: "1"},
      type: "container", metadata: {}, container: {image: "local", command: ["sh", "-c", $cmd]}}}}')"
}
details() { rpc flyteidl2.workflow.RunService/GetRunDetails "{\"runId\":$(run_id "$1")}"; }
phase() { details "$1" 2>/dev/null | jq -r '.details.action.status.phase // "?"' 2>/dev/null || echo "?"; }
wait_phase() {  # wait_phase NAME PHASE SECONDS
  local p="" end=$(($(date +%s) + $3))
  while [ "$(date +%s)" -le "$end" ]; do
    p=$(phase "$1")
    [ "$p" = "$2" ] && return 0
    sleep 0.2
  done
  fail "run $1 is $p after $3 s, expected $2: $(details "$1" || true)"
}

# Runs need an existing project: create the test client's and ours as a user would (the compose config keeps the
# default project list).
for p in testproject proj; do
  rpc flyteidl2.project.ProjectService/CreateProject "{\"project\":{\"id\":\"$p\",\"name\":\"$p\"}}" >/dev/null \
    || fail "CreateProject $p: $(cat "$WORK/rpc.out")"
done

step "runs-testclient against runs-service in compose"
timeout 60 "$BUILD/bin/runs-testclient" --endpoint "127.0.0.1:$RUNS_PORT" | tee "$WORK/client.out" \
  || fail "runs-testclient failed"
grep -q "All tests completed successfully" "$WORK/client.out" || fail "no success line from runs-testclient"
[ "$(grep -c '^Test [1-7]:' "$WORK/client.out")" -eq 7 ] || fail "runs-testclient did not run 7 tests"
# The seed README's expected lines (those that do not print generated names or details).
for line in "✓ Run created successfully: test-run-001" "✓ Found 2 runs" "✓ Action aborted successfully" \
  "✓ Run aborted successfully"; do
  grep -qxF -- "$line" "$WORK/client.out" || fail "runs-testclient did not print '$line'"
done
[ "$(grep -c '^✓ ' "$WORK/client.out")" -eq 7 ] || fail "runs-testclient: not 7 passed tests"

step "a shell task run -> SUCCEEDED"
create_run hello 'echo hello from compose' >/dev/null || fail "CreateRun hello: $(cat "$WORK/rpc.out")"
wait_phase hello ACTION_PHASE_SUCCEEDED 60
podman exec "$(compose ps -q runs-service)" cat /var/lib/flyte/shared/proj/development/hello/a0/1/stdout.log \
  | grep -qx 'hello from compose' || fail "no task output in the shared volume"

step "docker-compose restart executor mid-run loses nothing"
create_run slow 'sleep 6; echo slow done' >/dev/null || fail "CreateRun slow"
create_run queued 'echo queued done' >/dev/null || fail "CreateRun queued"
wait_phase slow ACTION_PHASE_RUNNING 60
executor_id=$(compose ps -q executor)
started0=$(podman inspect --format '{{.State.StartedAt}}' "$executor_id")
compose restart -t 30 executor >"$WORK/restart.log" 2>&1 || fail "restart executor: $(cat "$WORK/restart.log")"
[ "$(podman inspect --format '{{.State.StartedAt}}' "$executor_id")" != "$started0" ] || fail "the executor did not restart"
for r in slow queued; do wait_phase "$r" ACTION_PHASE_SUCCEEDED 90; done
create_run after 'echo after restart' >/dev/null || fail "CreateRun after"
wait_phase after ACTION_PHASE_SUCCEEDED 60
attempts=$(details slow | jq -r '.details.action.status.attempts')
podman exec "$(compose ps -q runs-service)" cat "/var/lib/flyte/shared/proj/development/slow/a0/$attempts/stdout.log" \
  | grep -qx 'slow done' || fail "no output of slow's last attempt ($attempts) in the shared volume"
echo "slow (running across the restart, $attempts attempt(s)), queued and after: SUCCEEDED"

step "docker-compose down"
compose down -v --timeout 30 >"$WORK/down.log" 2>&1 || fail "docker-compose down: $(cat "$WORK/down.log")"
[ -z "$(podman ps -a -q --filter "label=com.docker.compose.project=$PROJECT_NAME")" ] || fail "containers left after down"
! curl -sf "http://127.0.0.1:$RUNS_PORT/healthz" >/dev/null 2>&1 || fail "runs-service still answers after down"
podman network exists "${PROJECT_NAME}_default" && fail "network left after down"
echo "compose_up.sh: OK (image build ${BUILD_SECONDS} s, whole test $(($(date +%s) - T0)) s)"
