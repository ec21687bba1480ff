#!/usr/bin/env bash
# End-to-end: the seed's integration flow (build/bin/runs-testclient) against the real binaries on free ports.
#   manager_testclient.sh [MODE...]   MODE = manager | runs | runs-postgres   (default: manager runs)
#   manager        flyte-manager on one temp SQLite file: /healthz on its three ports, the testclient against its
#                  runs port, both schemas in the one file, SIGTERM -> exit 0
#   runs           runs-service alone on a temp SQLite file (what `make integration-test` runs)
#   runs-postgres  runs-service on a throwaway PostgreSQL (initdb/pg_ctl as postgres, free port)
# Exits non-zero on the first failure; always stops what it started; bounded (every wait has a timeout).
# FLYTE_BUILD_DIR = build dir (default ./build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FLYTE_BUILD_DIR:-$ROOT/build}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(manager runs)
for b in flyte-manager runs-service runs-testclient; do
  [ -x "$BUILD/bin/$b" ] || { echo "manager_testclient.sh: $BUILD/bin/$b not built" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/flyte-mtc-XXXXXX)
chmod 755 "$WORK"
PIDS=()
PG_DATA=""
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "$PG_DATA" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ $rc -ne 0 ]; then
    echo "--- manager_testclient.sh FAILED; logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# wait_log FILE REGEX PID: waits (10 s) for a line matching REGEX; prints it.
wait_log() {
  local file=$1 re=$2 pid=$3 line
  for _ in $(seq 1 100); do
    line=$(grep -E -m1 "$re" "$file" 2>/dev/null) && { echo "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || fail "process exited during start: $(cat "$file")"
    sleep 0.1
  done
  fail "no '$re' in $file after 10 s"
}

# stop PID NAME: SIGTERM must end it with status 0 within 10 s.
stop() {
  local pid=$1 name=$2 rc=0
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$name still running 10 s after SIGTERM"
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name exited $rc after SIGTERM"
  echo "$name: SIGTERM -> exit 0"
}

# testclient PORT: the seed's flow; its output must end with the success line.
testclient() {
  timeout 60 "$BUILD/bin/runs-testclient" --endpoint "127.0.0.1:$1" | tee "$WORK/client.out" || fail "runs-testclient failed"
  grep -q "All tests completed successfully" "$WORK/client.out" || fail "no success line from runs-testclient"
  [ "$(grep -c '^Test [1-7]:' "$WORK/client.out")" -eq 7 ] || fail "runs-testclient did not run 7 tests"
}

run_manager() {
  step "flyte-manager on SQLite"
  local dir=$WORK/manager
  mkdir -p "$dir"
  cat >"$dir/config.yaml" <<YAML
manager:
  runsService: {host: "127.0.0.1", port: 0}
  queueService: {host: "127.0.0.1", port: 0}
  executor: {host: "127.0.0.1", healthProbePort: 0}
database:
  sqlite: {file: "$dir/flyte.db"}
executor:
  dataRoot: "$dir/data"
YAML
  "$BUILD/bin/flyte-manager" --config "$dir/config.yaml" --validate-config >/dev/null || fail "config rejected"
  (cd "$dir" && exec "$BUILD/bin/flyte-manager" --config "$dir/config.yaml") >"$WORK/manager.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local ready runs queue exec
  ready=$(wait_log "$WORK/manager.log" 'flyte-manager ready' "$pid")
  runs=$(sed -E 's/.*runs-service :([0-9]+).*/\1/' <<<"$ready")
  queue=$(sed -E 's/.*queue-service :([0-9]+).*/\1/' <<<"$ready")
  exec=$(sed -E 's/.*executor health :([0-9]+).*/\1/' <<<"$ready")
  echo "ports: runs $runs, queue $queue, executor $exec"
  for p in "$runs" "$queue" "$exec"; do
    curl -sf --max-time 5 "http://127.0.0.1:$p/healthz" >/dev/null || fail "/healthz on $p"
  done
  curl -sf --max-time 5 "http://127.0.0.1:$runs/readyz" >/dev/null || fail "runs /readyz"
  curl -sf --max-time 5 "http://127.0.0.1:$queue/readyz" >/dev/null || fail "queue /readyz"
  testclient "$runs"
  stop "$pid" flyte-manager
  if command -v sqlite3 >/dev/null; then
    local tables
    tables=$(sqlite3 "$dir/flyte.db" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    for t in actions queue_entries schema_migrations queue_schema_migrations; do
      grep -qx "$t" <<<"$tables" || fail "table $t missing from $dir/flyte.db: $tables"
    done
    echo "flyte.db holds runs and queue tables"
  fi
}

# start_runs NAME CONFIG: runs-service on port 0; sets RUNS_PID and RUNS_PORT.
start_runs() {
  local name=$1 config=$2 line
  "$BUILD/bin/runs-service" --config "$config" >"$WORK/$name.log" 2>&1 &
  RUNS_PID=$!
  PIDS+=("$RUNS_PID")
  line=$(wait_log "$WORK/$name.log" 'listening on' "$RUNS_PID")
  RUNS_PORT=$(grep -oE 'listening on [^ ]+' <<<"$line" | sed 's/.*://')
}

run_runs() {
  step "runs-service on SQLite"
  cat >"$WORK/runs.yaml" <<YAML
runs:
  server: {host: "127.0.0.1", port: 0}
  queue: {endpoint: ""}   # runs-service alone: never hand work to whatever listens on the default queue port
database:
  sqlite: {file: "$WORK/runs.db"}
YAML
  start_runs runs "$WORK/runs.yaml"
  testclient "$RUNS_PORT"
  stop "$RUNS_PID" runs-service
}

run_runs_postgres() {
  step "runs-service on a throwaway PostgreSQL"
  [ -x "$PGBIN/initdb" ] || fail "no PostgreSQL in $PGBIN"
  PG_DATA=$WORK/pg
  mkdir -p "$PG_DATA"
  chown postgres "$PG_DATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PG_DATA" -A trust -U postgres >"$WORK/initdb.log" 2>&1 || fail "initdb"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -w -t 30 -l "$PG_DATA/server.log" \
    -o "-p $port -k $PG_DATA -c listen_addresses=127.0.0.1" start >/dev/null || fail "pg_ctl start"
  cat >"$WORK/runs-pg.yaml" <<YAML
runs:
  server: {host: "127.0.0.1", port: 0}
  queue: {endpoint: ""}   # runs-service alone: never hand work to whatever listens on the default queue port
database:
  postgres: {host: "127.0.0.1", port: $port, dbname: "postgres", username: "postgres", password: "",
             extraOptions: "sslmode=disable"}
YAML
  start_runs runs-pg "$WORK/runs-pg.yaml"
  testclient "$RUNS_PORT"
  stop "$RUNS_PID" runs-service
}

for m in "${MODES[@]}"; do
  case "$m" in
    manager) run_manager ;;
    runs) run_runs ;;
    runs-postgres) run_runs_postgres ;;
    *) fail "unknown mode $m (manager | runs | runs-postgres)" ;;
  esac
done
echo "manager_testclient.sh: OK (${MODES[*]})"
