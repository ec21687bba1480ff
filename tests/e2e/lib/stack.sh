# Sourced by tests/e2e/stack_*.sh: the REAL queue-service, runs-service and executor binaries on free ports in a
# temp dir, talked to over Connect JSON with curl (as clients do). Not a test itself (scripts/test.sh only runs
# tests/e2e/*.sh). Set DB=sqlite (default) or DB=postgres before sourcing; postgres starts a throwaway server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
export FLYTE_BUILD_DIR=${FLYTE_BUILD_DIR:-$ROOT/build}
BIN=$FLYTE_BUILD_DIR/bin
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=${DB:-sqlite}
for b in queue-service runs-service executor; do
  [ -x "$BIN/$b" ] || { echo "$(basename "$0"): $BIN/$b not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "$(basename "$0"): jq is required" >&2; exit 1; }

WORK=$(mktemp -d /tmp/flyte-stack-XXXXXX)
chmod 755 "$WORK"
declare -A SVC_PID=()
PG_DATA=""
ORG=testorg PROJECT=proj DOMAIN=dev
export FLYTE_DB_PASSWORD=unused-with-trust-auth

cleanup() {
  local rc=$?
  # SIGTERM first: the executor's shutdown kills its task process groups; then SIGKILL whatever is left (by pid).
  for n in "${!SVC_PID[@]}"; do kill -TERM "${SVC_PID[$n]}" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for n in "${!SVC_PID[@]}"; do kill -0 "${SVC_PID[$n]}" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for n in "${!SVC_PID[@]}"; do kill -KILL "${SVC_PID[$n]}" 2>/dev/null || true; done
  for n in "${!SVC_PID[@]}"; do wait "${SVC_PID[$n]}" 2>/dev/null || true; done
  if [ -n "$PG_DATA" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ $rc -ne 0 ]; then
    echo "--- $(basename "$0") FAILED; service logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

QUEUE_PORT=$(free_port)
RUNS_PORT=$(free_port)
RUNS2_PORT=$(free_port)
EXEC_PORT=$(free_port)
EXEC2_PORT=$(free_port)

database_yaml() {  # database_yaml FILE_FOR_SQLITE
  if [ "$DB" = postgres ]; then
    cat <<YAML
database:
  type: postgres
  postgres: {host: 127.0.0.1, port: $PG_PORT, dbname: flyte, username: postgres, passwordEnv: FLYTE_DB_PASSWORD,
             extraOptions: "sslmode=disable"}
  maxOpenConnections: 8
  maxIdleConnections: 4
YAML
  else
    cat <<YAML
database:
  type: sqlite
  sqlite: {file: "$WORK/$1"}
YAML
  fi
}

start_postgres() {
  [ -x "$PGBIN/initdb" ] || fail "PostgreSQL binaries not found in $PGBIN"
  PG_PORT=$(free_port)
  mkdir -p "$WORK/pg"
  chown postgres "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >"$WORK/initdb.out" 2>&1 ||
    fail "initdb: $(cat "$WORK/initdb.out")"
  PG_DATA=$WORK/pg/data
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -w -l "$WORK/pg/server.log" \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
    fail "pg_ctl start: $(cat "$WORK/pg/server.log")"
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE flyte" || fail "createdb"
}

write_configs() {
  cat >"$WORK/queue.yaml" <<YAML
queue:
  server: {host: 127.0.0.1, port: $QUEUE_PORT}
  leaseDuration: 3s
  pollInterval: 100ms
  maxWaitMs: 5000
$(database_yaml queue.db)
YAML
  for r in runs:$RUNS_PORT runs2:$RUNS2_PORT; do
    cat >"$WORK/${r%%:*}.yaml" <<YAML
runs:
  server: {host: 127.0.0.1, port: ${r##*:}}
  storagePrefix: file://$WORK/data
  workerThreads: 4
  projects: "$PROJECT"
  domains: "$DOMAIN"
  queue: {endpoint: "127.0.0.1:$QUEUE_PORT", minBackoff: 50ms, maxBackoff: 500ms}
$(database_yaml runs.db)
YAML
  done
  cat >"$WORK/executor.yaml" <<YAML
executor:
  server: {host: 127.0.0.1, port: $EXEC_PORT}
  queueEndpoint: "127.0.0.1:$QUEUE_PORT"
  runsEndpoint: "127.0.0.1:$RUNS_PORT"
  dataRoot: "$WORK/data"
  killGracePeriod: 1s
  acquireWait: 2s
  maxConcurrentProcesses: 16
YAML
}

# start NAME: starts queue|runs|runs2|executor|executor2 with $WORK/NAME.yaml and waits for /readyz. The command is
# prefixed with the words of RUN_AS (e.g. setpriv ... to run as another user) when set.
RUN_AS=()
start() {
  local name=$1 bin port
  case $name in
    queue) bin=queue-service port=$QUEUE_PORT ;;
    runs) bin=runs-service port=$RUNS_PORT ;;
    runs2) bin=runs-service port=$RUNS2_PORT ;;
    executor) bin=executor port=$EXEC_PORT ;;
    executor2) bin=executor port=$EXEC2_PORT ;;
  esac
  (cd "$WORK" && exec "${RUN_AS[@]}" "$BIN/$bin" --config "$WORK/$name.yaml") >>"$WORK/$name.log" 2>&1 &
  SVC_PID[$name]=$!
  wait_ready "$name" "http://127.0.0.1:$port/readyz"
}
# wait_ready NAME URL: waits (15 s) until URL answers 2xx; fails at once if NAME's process (SVC_PID) exits.
wait_ready() {
  for _ in $(seq 1 150); do
    curl -sf "$2" >/dev/null 2>&1 && return 0
    kill -0 "${SVC_PID[$1]}" 2>/dev/null || fail "$1 exited during start"
    sleep 0.1
  done
  fail "$1 not ready at $2 after 15 s"
}
# start_stack: the whole stack for DB (a throwaway PostgreSQL first when DB=postgres), configs written, queue,
# runs and executor started and ready.
start_stack() {
  if [ "$DB" = postgres ]; then
    step "starting a throwaway PostgreSQL"
    start_postgres
  fi
  write_configs
  start queue
  start runs
  start executor
}

# stop NAME [SIGNAL=TERM]
stop() {
  local name=$1 sig=${2:-TERM}
  kill "-$sig" "${SVC_PID[$name]}" 2>/dev/null || true
  wait "${SVC_PID[$name]}" 2>/dev/null || true
  unset "SVC_PID[$name]"
}

# rpc SERVICE/METHOD JSON [PORT]: Connect JSON call; prints the body; non-zero on an error answer.
rpc() {
  local method=$1 data=$2 port=${3:-$RUNS_PORT} code
  code=$(curl -s -o "$WORK/rpc.out" -w '%{http_code}' -H 'content-type: application/json' -d "$data" \
    "http://127.0.0.1:$port/$method") || true
  cat "$WORK/rpc.out"
  [ "$code" = 200 ]
}
run_id() { printf '{"org":"%s","project":"%s","domain":"%s","name":"%s"}' "$ORG" "$PROJECT" "$DOMAIN" "$1"; }

# create_run NAME SHELL_CMD [TASK_METADATA_JSON]: a run of an inline container task `sh -c SHELL_CMD`.
create_run() {
  local name=$1 cmd=$2 meta=${3:-'{}'}
  rpc flyteidl2.workflow.RunService/CreateRun "$(jq -cn --argjson id "$(run_id "$name")" --arg cmd "$cmd" \
    --argjson meta "$meta" '{runId: $id, taskSpec: {shortName: "t", taskTemplate: {id: {name: "t", version: "1"},
      type: "container", metadata: $meta, container: {image: "local", command: ["sh", "-c", $cmd]}}}}')"
}
details() { rpc flyteidl2.workflow.RunService/GetRunDetails "{\"runId\":$(run_id "$1")}"; }
phase() { details "$1" 2>/dev/null | jq -r '.details.action.status.phase // "?"' 2>/dev/null || echo "?"; }
# wait_phase NAME PHASE SECONDS [lenient]: fails at once on another terminal phase unless `lenient` (a retried
# attempt passes through FAILED).
wait_phase() {
  local name=$1 want=$2 secs=$3 lenient=${4:-} p="" end=$(($(date +%s) + $3))
  while [ "$(date +%s)" -le "$end" ]; do
    p=$(phase "$name")
    [ "$p" = "$want" ] && return 0
    case $p in ACTION_PHASE_SUCCEEDED | ACTION_PHASE_FAILED | ACTION_PHASE_ABORTED | ACTION_PHASE_TIMED_OUT)
      [ -z "$lenient" ] && fail "run $name ended $p, expected $want: $(details "$name")" ;;
    esac
    sleep 0.05
  done
  fail "run $name is $p after ${secs}s, expected $want: $(details "$name" || true)"
}

# ------------------------------------------------------------------------------------------------- scenarios

scenario_success() {
  step "echo hi -> SUCCEEDED"
  create_run ok1 'echo hi' >/dev/null || fail "CreateRun ok1"
  wait_phase ok1 ACTION_PHASE_SUCCEEDED 30
  # The run's files live under its output base, <storagePrefix>/<project>/<domain>/<run>/.
  grep -qx hi "$WORK/data/$PROJECT/$DOMAIN/ok1/a0/1/stdout.log" || fail "no 'hi' in the task's stdout.log"
}

scenario_latency() {  # scenario_latency N: CreateRun -> SUCCEEDED of `true` tasks, one after another
  local n=$1 total=0 t0 t1 max=0
  for i in $(seq 1 "$n"); do
    t0=$(now_ms)
    create_run "lat$i" 'true' >/dev/null || fail "CreateRun lat$i"
    wait_phase "lat$i" ACTION_PHASE_SUCCEEDED 30
    t1=$(now_ms)
    total=$((total + t1 - t0))
    [ $((t1 - t0)) -gt "$max" ] && max=$((t1 - t0))
  done
  echo "latency CreateRun -> SUCCEEDED (true task, $n sequential runs, polled every 50 ms): mean $((total / n)) ms, max $max ms"
}

scenario_failure() {
  step "exit 3 with retries 1 -> FAILED after 2 attempts, with its message"
  create_run fail1 'echo oops >&2; exit 3' '{"retries":{"retries":1}}' >/dev/null || fail "CreateRun fail1"
  wait_phase fail1 ACTION_PHASE_FAILED 30
  local d
  d=$(details fail1)
  [ "$(jq -r '.details.action.status.attempts' <<<"$d")" = 2 ] || fail "expected 2 attempts: $d"
  jq -r '.details.action.errorInfo.message // .details.attempts[-1].errorInfo.message' <<<"$d" | grep -q "3" ||
    fail "error message does not mention exit code 3: $d"
}

scenario_timeout() {
  step "timeout 1s on sleep 30 -> TIMED_OUT"
  create_run to1 'sleep 30' '{"timeout":"1s"}' >/dev/null || fail "CreateRun to1"
  wait_phase to1 ACTION_PHASE_TIMED_OUT 30
}

scenario_abort() {
  step "AbortRun of a running sleep 300 -> ABORTED and the process is gone"
  local marker="abort-marker-$$-$RANDOM"
  create_run ab1 "sleep 300; echo $marker" >/dev/null || fail "CreateRun ab1"
  wait_phase ab1 ACTION_PHASE_RUNNING 30
  for _ in $(seq 1 50); do pgrep -f "$marker" >/dev/null && break; sleep 0.1; done
  pgrep -f "$marker" >/dev/null || fail "task process not found while RUNNING"
  local t0
  t0=$(now_ms)
  rpc flyteidl2.workflow.RunService/AbortRun "{\"runId\":$(run_id ab1),\"reason\":\"e2e abort\"}" >/dev/null ||
    fail "AbortRun"
  [ "$(phase ab1)" = ACTION_PHASE_ABORTED ] || fail "run not ABORTED right after AbortRun"
  for _ in $(seq 1 100); do pgrep -f "$marker" >/dev/null || break; sleep 0.1; done
  pgrep -f "$marker" >/dev/null && fail "task process still alive 10 s after AbortRun"
  echo "abort: process gone $(($(now_ms) - t0)) ms after AbortRun"
  [ "$(phase ab1)" = ACTION_PHASE_ABORTED ] || fail "run left ABORTED"
}

scenario_child() {
  step "a task enqueues a child via QueueService.EnqueueAction on runs-service's port -> child runs, listed with parent"
  create_run par1 'sleep 4' >/dev/null || fail "CreateRun par1"
  wait_phase par1 ACTION_PHASE_RUNNING 30
  local req
  req=$(jq -cn --argjson id "$(run_id par1)" --arg base "file://$WORK/data/$PROJECT/$DOMAIN/par1/" '{
    actionId: {run: $id, name: "child1"}, parentActionName: "a0", group: "g",
    inputUri: ($base + "child1/inputs.pb"), runOutputBase: $base,
    task: {id: {org: $id.org, project: $id.project, domain: $id.domain, name: "sub", version: "1"},
           spec: {shortName: "sub", taskTemplate: {type: "container", container: {image: "local",
                  command: ["sh", "-c", "echo child"]}}}}}')
  rpc flyteidl2.workflow.QueueService/EnqueueAction "$req" >/dev/null || fail "EnqueueAction: $(cat "$WORK/rpc.out")"
  rpc flyteidl2.workflow.QueueService/EnqueueAction "$req" >/dev/null || fail "EnqueueAction twice must be OK"
  local out=""
  for _ in $(seq 1 300); do
    out=$(rpc flyteidl2.workflow.RunService/ListActions "{\"runId\":$(run_id par1)}") || fail "ListActions"
    [ "$(jq -r '.actions[] | select(.id.name == "child1") | .status.phase' <<<"$out")" = ACTION_PHASE_SUCCEEDED ] && break
    sleep 0.1
  done
  [ "$(jq -r '.actions[] | select(.id.name == "child1") | .status.phase' <<<"$out")" = ACTION_PHASE_SUCCEEDED ] ||
    fail "child1 did not succeed: $out"
  [ "$(jq -r '.actions[] | select(.id.name == "child1") | .metadata.parent' <<<"$out")" = a0 ] ||
    fail "child1 not listed with parent a0: $out"
  rpc flyteidl2.workflow.QueueService/EnqueueAction '{"actionId":{"run":{"project":"p"}}}' >/dev/null &&
    fail "an invalid EnqueueAction was accepted"
  grep -q 'action_id.run.domain is required' "$WORK/rpc.out" || fail "validation error does not name the field: $(cat "$WORK/rpc.out")"
  wait_phase par1 ACTION_PHASE_SUCCEEDED 30
}

scenario_queue_down() {
  step "queue-service down during CreateRun -> CreateRun OK, run completes after queue-service starts"
  stop queue
  create_run qd1 'echo later' >/dev/null || fail "CreateRun with queue-service down: $(cat "$WORK/rpc.out")"
  sleep 1.5
  [ "$(phase qd1)" = ACTION_PHASE_QUEUED ] || fail "qd1 should still be QUEUED"
  local t0
  t0=$(now_ms)
  start queue
  wait_phase qd1 ACTION_PHASE_SUCCEEDED 30
  echo "queue down: SUCCEEDED $(($(now_ms) - t0)) ms after queue-service came back"
}

scenario_burst_restarts() {  # scenario_burst_restarts N SIGNAL
  local n=$1 sig=$2
  step "burst of $n CreateRuns while runs-service and queue-service restart (kill -$sig) -> every acknowledged run SUCCEEDED"
  : >"$WORK/acked"
  (
    for i in $(seq 1 "$n"); do
      if create_run "b$i" 'true' >/dev/null 2>&1; then echo "b$i" >>"$WORK/acked"; fi
      sleep 0.04
    done
  ) &
  local burst=$!
  sleep 0.4
  stop runs "$sig"
  start runs
  sleep 0.3
  stop queue "$sig"
  sleep 0.3
  start queue
  sleep 0.3
  stop runs "$sig"
  start runs
  wait "$burst"
  local acked
  acked=$(wc -l <"$WORK/acked")
  [ "$acked" -ge $((n / 2)) ] || fail "only $acked of $n CreateRuns acknowledged"
  local t0 end
  t0=$(now_ms)
  end=$(($(date +%s) + 90))
  while read -r r; do
    while true; do
      p=$(phase "$r")
      [ "$p" = ACTION_PHASE_SUCCEEDED ] && break
      [ "$(date +%s)" -gt "$end" ] && fail "acknowledged run $r is $p"
      case $p in ACTION_PHASE_FAILED | ACTION_PHASE_ABORTED | ACTION_PHASE_TIMED_OUT) fail "run $r ended $p: $(details "$r")" ;; esac
      sleep 0.1
    done
  done <"$WORK/acked"
  echo "burst: $acked of $n acknowledged, all SUCCEEDED ($(($(now_ms) - t0)) ms after the last restart)"
}

scenario_executor_crash() {
  step "kill -9 the executor mid-action -> the action completes after the executor restarts"
  create_run ex1 'sleep 2; echo done' >/dev/null || fail "CreateRun ex1"
  wait_phase ex1 ACTION_PHASE_RUNNING 30
  stop executor KILL
  sleep 0.5
  start executor
  # Attempt 1 is reported FAILED (ExecutorRestarted, retryable) on restart; attempt 2 then runs to the end.
  wait_phase ex1 ACTION_PHASE_SUCCEEDED 60 lenient
  local d
  d=$(details ex1)
  [ "$(jq -r '.details.action.status.attempts' <<<"$d")" -ge 2 ] || fail "expected a second attempt after the crash: $d"
}

scenario_two_replicas() {  # scenario_two_replicas N: PostgreSQL, two runs-service replicas = two dispatchers
  step "two runs-service replicas on one database: $1 runs created through both, each dispatched and SUCCEEDED"
  local n=$1 port
  start runs2
  for i in $(seq 1 "$n"); do
    port=$RUNS_PORT
    [ $((i % 2)) -eq 0 ] && port=$RUNS2_PORT
    rpc flyteidl2.workflow.RunService/CreateRun "$(jq -cn --argjson id "$(run_id "rep$i")" '{runId: $id,
      taskSpec: {shortName: "t", taskTemplate: {id: {name: "t", version: "1"}, type: "container",
      container: {image: "local", command: ["sh", "-c", "true"]}}}}')" "$port" >/dev/null || fail "CreateRun rep$i"
  done
  for i in $(seq 1 "$n"); do wait_phase "rep$i" ACTION_PHASE_SUCCEEDED 60; done
  # A command's row goes once queue-service acknowledged it, which may be after its run finished: just after, or,
  # for a command a killed dispatcher had claimed (the burst scenario), once a live replica takes the dead one's
  # claim over (at once: its connections are gone; not after the 30 s claim time) and sends it again (harmless:
  # enqueue is idempotent). Retries back off up to 5 s.
  local left end=$(($(date +%s) + 15))
  while true; do
    left=$(runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d flyte -tAc "SELECT COUNT(*) FROM queue_outbox")
    [ "$left" = 0 ] && break
    [ "$(date +%s)" -gt "$end" ] && fail "$left outbox rows left 15 s after every run succeeded: $(runuser -u postgres -- \
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d flyte -tAc "SELECT run_name, action_name, attempts, last_error,
      next_attempt_at, claimed_until FROM queue_outbox")"
    sleep 0.2
  done
  stop runs2
}
