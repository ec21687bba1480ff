#!/usr/bin/env bash
# End-to-end test of the runs-service binary, talking to it as clients do:
#   1. SQLite: every RPC of RunService, TaskService and StateService over Connect (HTTP/1.1, buf curl's default)
#      and over gRPC (--protocol grpc --http2-prior-knowledge), through services/runs/tests/scripts; health,
#      readiness, metrics and Connect JSON errors with curl; SIGTERM -> exit 0 promptly.
#   2. PostgreSQL (throwaway server): two replicas on one database; a run created on replica A reaches a
#      WatchRuns stream open on replica B; projects, signed URLs and the task output cache (CacheService) made
#      through A are seen through B; a scheduled trigger deployed through A fires exactly once with both replicas
#      running a scheduler; the same RPC suite against A.
# Exits non-zero on the first failure; always stops what it started. FLYTE_BUILD_DIR = build dir (./build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FLYTE_BUILD_DIR=${FLYTE_BUILD_DIR:-$ROOT/build}
BIN=$FLYTE_BUILD_DIR/bin/runs-service
SCRIPTS=$ROOT/services/runs/tests/scripts
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$BIN" ] || { echo "runs_api.sh: $BIN not built" >&2; exit 1; }
[ -f "$FLYTE_BUILD_DIR/proto/all.binpb" ] || { echo "runs_api.sh: no $FLYTE_BUILD_DIR/proto/all.binpb" >&2; exit 1; }
command -v jq >/dev/null || { echo "runs_api.sh: jq is required (scripts/bootstrap.sh installs it)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/flyte-e2e-XXXXXX)
chmod 755 "$WORK"
PIDS=()
PG_DATA=""
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$PG_DATA" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ $rc -ne 0 ]; then
    echo "--- runs_api.sh FAILED; service logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# start_service NAME CONFIG: starts runs-service (port 0) and waits for /readyz; sets PORT and PID.
start_service() {
  local name=$1 config=$2
  "$BIN" --config "$config" >"$WORK/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(grep -o 'listening on [^ ]*' "$WORK/$name.log" | head -n1 | sed 's/.*://') || true
    if [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; then return 0; fi
    kill -0 "$PID" 2>/dev/null || fail "$name exited during start: $(cat "$WORK/$name.log")"
    sleep 0.1
  done
  fail "$name not ready after 10 s"
}

# stop_service PID NAME: SIGTERM must end it with status 0 within 5 s.
stop_service() {
  local pid=$1 name=$2 start rc=0
  start=$(date +%s%N)
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$name still running 5 s after SIGTERM"
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name exited $rc after SIGTERM"
  echo "$name: SIGTERM -> exit 0 in $((($(date +%s%N) - start) / 1000000)) ms"
}

# ok NAME CMD...: CMD must succeed; its stdout lands in $WORK/out.json.
ok() {
  local name=$1
  shift
  "$@" >"$WORK/out.json" 2>"$WORK/err.txt" || fail "$name: exit $?: $(cat "$WORK/err.txt")"
}
# expect JQ_EXPR [ARGS]: checks $WORK/out.json.
expect() {
  local expr=$1
  shift
  jq -e "$@" "$expr" "$WORK/out.json" >/dev/null || fail "expected $expr ($*) in: $(cat "$WORK/out.json")"
}
# err CODE NAME CMD...: CMD must fail with the given Connect/gRPC code name.
err() {
  local code=$1 name=$2
  shift 2
  if "$@" >"$WORK/out.json" 2>"$WORK/err.txt"; then fail "$name: succeeded, expected $code"; fi
  grep -q "\"code\": *\"$code\"" "$WORK/err.txt" || fail "$name: expected $code, got: $(cat "$WORK/err.txt")"
}

rpc() { "$SCRIPTS/rpc.sh" "$@"; }
runid() { printf '{"org":"testorg","project":"testproject","domain":"development","name":"%s"}' "$1"; }
actid() { printf '{"run":%s,"name":"%s"}' "$(runid "$1")" "${2:-a0}"; }
PROJECT_ID='{"organization":"testorg","domain":"development","name":"testproject"}'

# watch NAME METHOD JSON: starts a stream in the background, output in $WORK/NAME.stream.
watch() {
  local name=$1 method=$2 data=$3
  rpc "$method" "$data" >"$WORK/$name.stream" 2>"$WORK/$name.stream.err" &
  WATCH_PID=$!
  PIDS+=("$WATCH_PID")
}
# wait_for FILE PATTERN [SECONDS]: until FILE contains PATTERN.
wait_for() {
  local file=$1 pattern=$2 secs=${3:-10}
  for _ in $(seq 1 $((secs * 10))); do grep -q -- "$pattern" "$file" 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$pattern' in $file after ${secs}s: $(cat "$file" "$file.err" 2>/dev/null | tail -n 20)"
}
# ends_ok PID NAME [SECONDS]: a stream that must finish by itself, successfully.
ends_ok() {
  local pid=$1 name=$2 secs=${3:-10} rc=0
  for _ in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$name stream did not end within ${secs}s"
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name stream ended with exit $rc: $(cat "$WORK/$name.stream.err")"
}

# The whole API once, over the transport in BUF_CURL_FLAGS. $1 distinguishes names (c = Connect, g = gRPC...).
api_suite() {
  local s=$1
  local task="task-$s" run="run-$s" run2="run2-$s"
  step "TaskService ($s)"
  ok DeployTask "$SCRIPTS/create_task.sh" "$task" v1
  expect '. == {}'
  ok DeployTask "$SCRIPTS/create_task.sh" "$task" v2
  ok GetTaskDetails "$SCRIPTS/get_task.sh" "$task" v1
  expect '.details.taskId.name == $n and .details.taskId.version == "v1"' --arg n "$task"
  ok ListTasks "$SCRIPTS/list_tasks.sh" "$task"
  expect '[.tasks[] | select(.taskId.name == $n)] | length == 1 and .[0].taskId.version == "v2"' --arg n "$task"
  ok ListVersions rpc flyteidl2.task.TaskService/ListVersions \
    "{\"task_name\":{\"org\":\"testorg\",\"project\":\"testproject\",\"domain\":\"development\",\"name\":\"$task\"}}"
  expect '[.versions[].version] | sort == ["v1", "v2"]'
  err not_found GetTaskDetails "$SCRIPTS/get_task.sh" "$task" v9

  step "RunService ($s)"
  ok CreateRun "$SCRIPTS/create_run.sh" "$run" "$task" v1
  expect '.run.action.id.run.name == $r and .run.action.id.name == "a0" and .run.action.status.phase == "ACTION_PHASE_QUEUED"' --arg r "$run"
  # The same request again (a client retrying after a lost reply) gets the run; another request with the name
  # is ALREADY_EXISTS.
  ok "CreateRun (same request again)" "$SCRIPTS/create_run.sh" "$run" "$task" v1
  expect '.run.action.id.run.name == $r and .run.action.id.name == "a0"' --arg r "$run"
  err already_exists "CreateRun (same name, other request)" "$SCRIPTS/create_run.sh" "$run" "$task" v2
  err not_found "CreateRun (unknown task)" "$SCRIPTS/create_run.sh" "run3-$s" "$task" v9
  err invalid_argument "CreateRun (bad name)" "$SCRIPTS/create_run.sh" "Not_A_DNS_Name" "$task" v1
  ok GetRunDetails "$SCRIPTS/get_run_details.sh" "$run"
  expect '.details.action.id.run.name == $r' --arg r "$run"
  err not_found "GetRunDetails (missing)" "$SCRIPTS/get_run_details.sh" "nosuchrun"
  ok ListRuns "$SCRIPTS/list_runs.sh"
  expect '[.runs[].action.id.run.name] | index($r) != null' --arg r "$run"
  ok ListActions "$SCRIPTS/list_actions.sh" "$run"
  expect '[.actions[].id.name] == ["a0"]'
  ok GetActionDetails rpc flyteidl2.workflow.RunService/GetActionDetails "{\"action_id\":$(actid "$run")}"
  expect '.details.id.name == "a0" and .details.id.run.name == $r' --arg r "$run"
  # No inputs were given: the answer is empty data, not an error.
  ok GetActionData rpc flyteidl2.workflow.RunService/GetActionData "{\"action_id\":$(actid "$run")}"
  expect 'type == "object"'
  # Not implemented by runs-service (answered UNIMPLEMENTED, which the SDK treats as "feature absent").
  err unimplemented GetActionDataURIs rpc flyteidl2.workflow.RunService/GetActionDataURIs "{\"action_id\":$(actid "$run")}"
  err unimplemented GetActionLogContext rpc flyteidl2.workflow.RunService/GetActionLogContext "{\"action_id\":$(actid "$run")}"
  err unimplemented SignalEvent rpc flyteidl2.workflow.RunService/SignalEvent "{\"action_id\":$(actid "$run")}"
  err unimplemented WatchGroups rpc flyteidl2.workflow.RunService/WatchGroups "{\"project_id\":$PROJECT_ID}"

  step "StateService ($s)"
  ok Put "$SCRIPTS/put_state.sh" "$run" a0 ACTION_PHASE_RUNNING
  expect '(.status.code // 0) == 0 and .actionId.name == "a0"'
  ok Get rpc flyteidl2.workflow.StateService/Get "{\"action_id\":$(actid "$run")}"
  expect '(.state | fromjson | .phase) == "ACTION_PHASE_RUNNING"'
  # StateService answers problems in band (PutResponse.status, google.rpc.Status codes), as upstream does.
  ok "Put (missing action)" "$SCRIPTS/put_state.sh" nosuchrun a0 ACTION_PHASE_RUNNING
  expect '.status.code == 5'
  ok "Put (RUNNING -> QUEUED)" "$SCRIPTS/put_state.sh" "$run" a0 ACTION_PHASE_QUEUED
  expect '.status.code == 9'
  ok "Put (not JSON)" rpc flyteidl2.workflow.StateService/Put "{\"action_id\":$(actid "$run"),\"state\":\"not json\"}"
  expect '.status.code == 3'
  ok Get rpc flyteidl2.workflow.StateService/Get "{\"action_id\":$(actid "$run")}"
  expect '(.state | fromjson | .phase) == "ACTION_PHASE_RUNNING"'

  step "watch streams ($s)"
  watch "wrd-$s" flyteidl2.workflow.RunService/WatchRunDetails "{\"run_id\":$(runid "$run")}"
  local wrd=$WATCH_PID
  watch "wad-$s" flyteidl2.workflow.RunService/WatchActionDetails "{\"action_id\":$(actid "$run")}"
  local wad=$WATCH_PID
  watch "wce-$s" flyteidl2.workflow.RunService/WatchClusterEvents "{\"id\":$(actid "$run"),\"attempt\":1}"
  local wce=$WATCH_PID
  watch "wr-$s" flyteidl2.workflow.RunService/WatchRuns "{\"project_id\":$PROJECT_ID}"
  local wr=$WATCH_PID
  watch "wa-$s" flyteidl2.workflow.RunService/WatchActions "{\"run_id\":$(runid "$run")}"
  local wa=$WATCH_PID
  watch "sw-$s" flyteidl2.workflow.StateService/Watch "{\"parent_action_id\":$(actid "$run")}"
  local sw=$WATCH_PID
  wait_for "$WORK/wrd-$s.stream" ACTION_PHASE_RUNNING
  wait_for "$WORK/wad-$s.stream" ACTION_PHASE_RUNNING
  wait_for "$WORK/wr-$s.stream" "$run"
  wait_for "$WORK/wa-$s.stream" '"a0"'
  wait_for "$WORK/sw-$s.stream" '"sentinel": true'

  # Live: a new run reaches WatchRuns; aborting run 1 ends the per-run streams.
  ok CreateRun "$SCRIPTS/create_run.sh" "$run2" "$task" v2
  wait_for "$WORK/wr-$s.stream" "$run2"
  ok AbortAction rpc flyteidl2.workflow.RunService/AbortAction "{\"action_id\":$(actid "$run2"),\"reason\":\"e2e\"}"
  expect '. == {}'
  ok AbortRun "$SCRIPTS/abort_run.sh" "$run" "e2e says stop"
  expect '. == {}'
  ends_ok "$wrd" "wrd-$s"
  ends_ok "$wad" "wad-$s"
  ends_ok "$wce" "wce-$s"
  grep -q ACTION_PHASE_ABORTED "$WORK/wrd-$s.stream" || fail "WatchRunDetails did not deliver ABORTED"
  wait_for "$WORK/wa-$s.stream" ACTION_PHASE_ABORTED
  kill -TERM "$wr" "$wa" "$sw" 2>/dev/null || true
  wait "$wr" "$wa" "$sw" 2>/dev/null || true
  ok GetRunDetails "$SCRIPTS/get_run_details.sh" "$run2"
  expect '.details.action.status.phase == "ACTION_PHASE_ABORTED"'
  # Aborting what already ended is fine.
  ok AbortRun "$SCRIPTS/abort_run.sh" "$run"
}

# http_checks PORT TAG: health, readiness, metrics and Connect errors with plain curl (after api_suite TAGc).
http_checks() {
  local base="http://127.0.0.1:$1" tag=$2 code
  step "HTTP endpoints"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] || fail "/healthz not 200"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ] || fail "/readyz not 200"
  curl -sf "$base/metrics" >"$WORK/metrics.txt" || fail "/metrics failed"
  grep -q '^flyte_rpc_requests_total{.*method="/flyteidl2.workflow.RunService/CreateRun"' "$WORK/metrics.txt" ||
    grep -q '^flyte_rpc_requests_total{.*CreateRun' "$WORK/metrics.txt" || fail "no CreateRun in /metrics"
  grep -q '^flyte_db_query_duration_seconds_count{.*store="runs"' "$WORK/metrics.txt" || fail "no DB metrics"

  # Connect unary error: HTTP status from the code, JSON body {"code": ..., "message": ...}.
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d "{\"run_id\":$(runid nosuchrun)}" "$base/flyteidl2.workflow.RunService/GetRunDetails")
  [ "$code" = 404 ] || fail "missing run: HTTP $code, want 404"
  expect '.code == "not_found" and (.message | length) > 0'
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d '{not json' "$base/flyteidl2.workflow.RunService/GetRunDetails")
  [ "$code" = 400 ] || fail "bad JSON: HTTP $code, want 400"
  expect '.code == "invalid_argument"'
  # A taken run name, another request: 409 already_exists.
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d "{\"run_id\":$(runid "run-${tag}c"),\"task_id\":{\"org\":\"testorg\",\"project\":\"testproject\",\"domain\":\"development\",\"name\":\"task-${tag}c\",\"version\":\"v2\"}}" \
    "$base/flyteidl2.workflow.RunService/CreateRun")
  [ "$code" = 409 ] || fail "duplicate run: HTTP $code, want 409"
  expect '.code == "already_exists"'
  # Connect GET for the methods flyteidl2 marks NO_SIDE_EFFECTS: the request is in the query (JSON, or base64url
  # when base64=1); other methods answer 405 with Allow: POST.
  local msg="{\"run_id\":$(runid "run-${tag}c")}"
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' --get --data-urlencode connect=v1 \
    --data-urlencode encoding=json --data-urlencode "message=$msg" "$base/flyteidl2.workflow.RunService/GetRunDetails")
  [ "$code" = 200 ] || fail "GET GetRunDetails: HTTP $code, want 200: $(cat "$WORK/out.json")"
  expect '.details.action.id.run.name == $r' --arg r "run-${tag}c"
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' \
    "$base/flyteidl2.workflow.RunService/ListRuns?connect=v1&encoding=json&base64=1&message=$(printf '{"org":"testorg"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')")
  [ "$code" = 200 ] || fail "GET ListRuns (base64): HTTP $code, want 200: $(cat "$WORK/out.json")"
  expect '[.runs[].action.id.run.name] | index($r) != null' --arg r "run-${tag}c"
  code=$(curl -s -o /dev/null -D "$WORK/headers.txt" -w '%{http_code}' \
    "$base/flyteidl2.workflow.RunService/CreateRun?connect=v1&encoding=json&message=%7B%7D")
  [ "$code" = 405 ] || fail "GET CreateRun: HTTP $code, want 405"
  grep -qi '^allow: POST' "$WORK/headers.txt" || fail "GET CreateRun: no Allow: POST header"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d '{}' \
    "$base/flyteidl2.workflow.RunService/NoSuchMethod")
  [ "$code" = 404 ] || fail "unknown method: HTTP $code, want 404"
  # A successful Connect JSON call with curl alone.
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d "{\"project_id\":$PROJECT_ID}" "$base/flyteidl2.workflow.RunService/ListRuns")
  [ "$code" = 200 ] || fail "ListRuns via curl: HTTP $code"
  expect '.runs | length >= 1'
}

both_transports() {
  local tag=$1
  BUF_CURL_FLAGS="" api_suite "${tag}c"
  BUF_CURL_FLAGS="--protocol grpc --http2-prior-knowledge" api_suite "${tag}g"
}

# ---------------------------------------------------------------- SQLite
step "SQLite: starting runs-service"
cat >"$WORK/sqlite.yaml" <<YAML
runs:
  server: {host: 127.0.0.1, port: 0}
  storagePrefix: file://$WORK/data
  queue: {endpoint: ""}   # runs-service alone: never hand work to whatever listens on the default queue port
database:
  sqlite: {file: $WORK/runs.db}
logger: {level: 4, show-source: false}
YAML
"$BIN" --config "$WORK/sqlite.yaml" --validate-config | grep -qx "config OK" || fail "--validate-config"
start_service sqlite "$WORK/sqlite.yaml"
SQLITE_PID=$PID
export ENDPOINT="http://127.0.0.1:$PORT"
# The suite's project is not configured here: runs in it are NOT_FOUND until create_project.sh makes it (twice: the
# second finds it), as `make api-test` does against a service on its defaults.
PROJECT=testproject "$SCRIPTS/create_run.sh" before-project t 1 >"$WORK/np.out" 2>&1 && fail "a run in an unknown project was accepted"
grep -qi "not_found" "$WORK/np.out" && grep -q "project testproject" "$WORK/np.out" || fail "unknown project: $(cat "$WORK/np.out")"
"$SCRIPTS/create_project.sh" | grep -qx "project testproject created" || fail "create_project.sh did not create it"
"$SCRIPTS/create_project.sh" | grep -qx "project testproject exists" || fail "create_project.sh again did not find it"
both_transports s
http_checks "$PORT" s
stop_service "$SQLITE_PID" sqlite

# A bad config is refused before anything is opened, listing every problem.
printf 'runs: {server: {port: abc}}\ndatabase: {sqlte: {}}\n' >"$WORK/bad.yaml"
rc=0
"$BIN" --config "$WORK/bad.yaml" >"$WORK/out.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "bad config: exit $rc, want 2"
grep -q "runs.server.port: expected an integer" "$WORK/out.txt" || fail "bad config: port not reported"
grep -q "database.sqlte: unknown key" "$WORK/out.txt" || fail "bad config: sqlte not reported"

# ---------------------------------------------------------------- PostgreSQL
step "PostgreSQL: starting a throwaway server"
[ -x "$PGBIN/initdb" ] || fail "PostgreSQL binaries not found in $PGBIN"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/pg"
chown postgres "$WORK/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >"$WORK/initdb.out" 2>&1 ||
  fail "initdb: $(cat "$WORK/initdb.out")"
PG_DATA=$WORK/pg/data
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -w -l "$WORK/pg/server.log" \
  -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
  fail "pg_ctl start: $(cat "$WORK/pg/server.log")"
runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE flyte_runs" ||
  fail "createdb"

cat >"$WORK/postgres.yaml" <<YAML
runs:
  server: {host: 127.0.0.1, port: 0}
  storagePrefix: file://$WORK/data
  queue: {endpoint: ""}   # runs-service alone: never hand work to whatever listens on the default queue port
  projects: "testproject"   # the project the suite works in (runs in unknown projects are NOT_FOUND)
  workerThreads: 4
  triggers: {pollInterval: 200ms}   # both replicas race for the trigger scheduler's lease every 200 ms
database:
  type: postgres
  postgres:
    host: 127.0.0.1
    port: $PG_PORT
    dbname: flyte_runs
    username: postgres
    passwordEnv: FLYTE_DB_PASSWORD
    extraOptions: "sslmode=disable"
  maxOpenConnections: 8
  maxIdleConnections: 4
YAML
export FLYTE_DB_PASSWORD=unused-with-trust-auth
step "PostgreSQL: two replicas"
start_service pg-a "$WORK/postgres.yaml"
A_PID=$PID A_PORT=$PORT
start_service pg-b "$WORK/postgres.yaml"
B_PID=$PID B_PORT=$PORT

# A run created on A reaches a WatchRuns stream open on B.
export ENDPOINT="http://127.0.0.1:$B_PORT"
watch cross flyteidl2.workflow.RunService/WatchRuns "{\"project_id\":$PROJECT_ID}"
CROSS_PID=$WATCH_PID
sleep 1
export ENDPOINT="http://127.0.0.1:$A_PORT"
ok DeployTask "$SCRIPTS/create_task.sh" cross-task v1
ok CreateRun "$SCRIPTS/create_run.sh" cross-run cross-task v1
wait_for "$WORK/cross.stream" cross-run 10
echo "replica B's WatchRuns delivered the run created on replica A"
# And the same run is readable through B.
ENDPOINT="http://127.0.0.1:$B_PORT" ok GetRunDetails "$SCRIPTS/get_run_details.sh" cross-run
expect '.details.action.id.run.name == "cross-run"'
kill -TERM "$CROSS_PID" 2>/dev/null || true
wait "$CROSS_PID" 2>/dev/null || true

# Projects live in the database: one created on A is known to B at once (an unknown one is NOT_FOUND there).
err not_found "CreateRun (unknown project, on B)" env ENDPOINT="http://127.0.0.1:$B_PORT" \
  PROJECT=madeona "$SCRIPTS/create_run.sh" pa-run cross-task v1
ok CreateProject rpc flyteidl2.project.ProjectService/CreateProject '{"project":{"id":"madeona","name":"made on A"}}'
ENDPOINT="http://127.0.0.1:$B_PORT" ok GetProject rpc flyteidl2.project.ProjectService/GetProject '{"id":"madeona"}'
expect '.project.name == "made on A"'
# A signed upload URL issued by A is accepted by B (the HMAC key is shared through the database).
md5=$(printf 'cross-replica' | openssl dgst -md5 -binary | base64)
ok CreateUploadLocation rpc flyteidl2.dataproxy.DataProxyService/CreateUploadLocation \
  "{\"project\":\"testproject\",\"domain\":\"development\",\"filename\":\"x.txt\",\"contentMd5\":\"$md5\"}"
url=$(jq -r .signedUrl "$WORK/out.json")
native=$(jq -r .nativeUrl "$WORK/out.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $md5" --data-binary 'cross-replica' \
  "http://127.0.0.1:$B_PORT/${url#*://*/}")
[ "$code" = 200 ] || [ "$code" = 201 ] || [ "$code" = 204 ] || fail "PUT through replica B: HTTP $code"
[ "$(cat "${native#file://}")" = cross-replica ] || fail "the upload through B did not land at $native"
echo "replica B knew the project made on A and took A's signed upload URL"

# The task output cache lives in the database too: an entry put through A is read through B, and a reservation
# held through A is answered as A's holder through B.
CACHE_ID='{"org":"testorg","project":"testproject","domain":"development"}'
ok CachePut rpc flyteidl2.cacheservice.v2.CacheService/Put \
  "{\"identifier\":$CACHE_ID,\"baseRequest\":{\"key\":\"k1\",\"output\":{\"outputUri\":\"file:///cache/k1\"}}}"
ENDPOINT="http://127.0.0.1:$B_PORT" ok CacheGet rpc flyteidl2.cacheservice.v2.CacheService/Get \
  "{\"identifier\":$CACHE_ID,\"baseRequest\":{\"key\":\"k1\"}}"
expect '.output.outputUri == "file:///cache/k1"'
err already_exists "CachePut (exists, no overwrite, on B)" env ENDPOINT="http://127.0.0.1:$B_PORT" \
  "$SCRIPTS/rpc.sh" flyteidl2.cacheservice.v2.CacheService/Put \
  "{\"identifier\":$CACHE_ID,\"baseRequest\":{\"key\":\"k1\",\"output\":{\"outputUri\":\"file:///other\"}}}"
ok CacheReserve rpc flyteidl2.cacheservice.v2.CacheService/GetOrExtendReservation \
  "{\"identifier\":$CACHE_ID,\"baseRequest\":{\"key\":\"k1\",\"ownerId\":\"alice\",\"heartbeatInterval\":\"10s\"}}"
ENDPOINT="http://127.0.0.1:$B_PORT" ok CacheReserve rpc flyteidl2.cacheservice.v2.CacheService/GetOrExtendReservation \
  "{\"identifier\":$CACHE_ID,\"baseRequest\":{\"key\":\"k1\",\"ownerId\":\"bob\",\"heartbeatInterval\":\"10s\"}}"
expect '.reservation.ownerId == "alice"'
echo "replica B read the cache entry and the reservation made through A"

# Triggers: a task deployed through A with a fixed-rate trigger whose tick comes 3 s later; both replicas run a
# scheduler, exactly one of them (the lease holder) fires it: one run, named by the trigger and the tick.
start=$(date -u -d "@$(( $(date +%s) - 57 ))" +%Y-%m-%dT%H:%M:%SZ)
TRIGGER_TASK='{"org":"testorg","project":"testproject","domain":"development","name":"scheduled","version":"v1"}'
ok DeployTaskWithTrigger rpc flyteidl2.task.TaskService/DeployTask "{\"taskId\":$TRIGGER_TASK,\"spec\":{\"taskTemplate\":{\"id\":{\"resourceType\":\"TASK\",\"org\":\"testorg\",\"project\":\"testproject\",\"domain\":\"development\",\"name\":\"scheduled\",\"version\":\"v1\"},\"type\":\"python\"},\"shortName\":\"scheduled\",\"environment\":{\"name\":\"default\"}},\"triggers\":[{\"name\":\"every-minute\",\"spec\":{\"active\":true},\"automationSpec\":{\"type\":\"TYPE_SCHEDULE\",\"schedule\":{\"rate\":{\"value\":1,\"unit\":\"FIXED_RATE_UNIT_MINUTE\",\"startTime\":\"$start\"},\"kickoffTimeInputArg\":\"when\"}}}]}"
triggered_runs() {
  ENDPOINT="http://127.0.0.1:$B_PORT" rpc flyteidl2.workflow.RunService/ListRuns "{\"projectId\":$PROJECT_ID}" |
    jq '[.runs[]? | select(.action.metadata.triggerName == "every-minute")] | length'
}
for _ in $(seq 1 100); do [ "$(triggered_runs)" = 1 ] && break; sleep 0.1; done
[ "$(triggered_runs)" = 1 ] || fail "the trigger fired no run within 10 s"
sleep 1
[ "$(triggered_runs)" = 1 ] || fail "the trigger's tick made $(triggered_runs) runs, want 1"
fired=$(cat "$WORK/pg-a.log" "$WORK/pg-b.log" | grep -c "trigger testproject/development/scheduled/every-minute fired run" || true)
[ "$fired" = 1 ] || fail "the tick was fired $fired times across the two replicas, want 1"
ENDPOINT="http://127.0.0.1:$B_PORT" ok ListTriggers rpc flyteidl2.trigger.TriggerService/ListTriggers \
  "{\"taskName\":{\"org\":\"testorg\",\"project\":\"testproject\",\"domain\":\"development\",\"name\":\"scheduled\"}}"
expect '.triggers[0].active == true and (.triggers[0].status.triggeredAt | length) > 0'
echo "one of the two replicas fired the trigger's tick once; B lists it as triggered"

both_transports p
http_checks "$A_PORT" p
stop_service "$A_PID" pg-a
stop_service "$B_PID" pg-b
echo "runs_api.sh: all checks passed"
