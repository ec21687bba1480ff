#!/usr/bin/env bash
# Whole-stack benchmark: the real runs-service, queue-service and executor on free ports in a temp dir, driven by
# flyte-loadgen's stack modes (stack-latency, chain, fanout) with no-op tasks (`sh -c true`), and writes
# docs/benchmarks-stack.md. Not a test: the figures depend on the machine.
#
#   BUILD_DIR=build-x scripts/bench-stack.sh          use binaries already built in build-x (default: build)
#   BACKENDS="sqlite postgres" scripts/bench-stack.sh  also a throwaway PostgreSQL (default: sqlite)
#   RUNS=20 BURST=50 STEPS=20 CHILDREN="100" OUT=/tmp/x.md scripts/bench-stack.sh   a quick smoke run
#
# Knobs (env): RUNS (200 paced runs), RATE (10/s), BURST (1000), STEPS (500), CHILDREN ("1000 6000": fan-outs
# of these sizes, each on a fresh stack), FANOUTS (3 runs of each fan-out; the median is reported, all listed),
# PROCS (executor.maxConcurrentProcesses, 16: the executor's default), KEEP_RAW (dir for loadgen JSON),
# PG_BIN (/usr/lib/postgresql/15/bin), OUT (docs/benchmarks-stack.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
COMMAND="$0${*:+ $*}"
ENV_USED=""
for v in BUILD_DIR BACKENDS RUNS RATE BURST STEPS CHILDREN FANOUTS PROCS OUT; do
  if [ -n "${!v:-}" ]; then ENV_USED+="$v=$(printf %q "${!v}") "; fi
done
BUILD_DIR=${BUILD_DIR:-build}
BACKENDS=${BACKENDS:-sqlite}
RUNS=${RUNS:-200}
RATE=${RATE:-10}
BURST=${BURST:-1000}
STEPS=${STEPS:-500}
CHILDREN=${CHILDREN:-"1000 6000"}
FANOUTS=${FANOUTS:-3}
PROCS=${PROCS:-16}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
OUT=${OUT:-$ROOT/docs/benchmarks-stack.md}
BIN=$ROOT/$BUILD_DIR/bin
for b in runs-service queue-service executor flyte-loadgen; do
  [ -x "$BIN/$b" ] || { echo "bench-stack: $BIN/$b not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench-stack: jq is required" >&2; exit 1; }

WORK=$(mktemp -d /tmp/flyte-bench-stack-XXXXXX)
chmod 755 "$WORK"
RAW=${KEEP_RAW:-$WORK/raw}
mkdir -p "$RAW"
declare -A PID=()
PG_DATA=""
export FLYTE_DB_PASSWORD=unused-with-trust-auth

stop_all() {
  local n
  # The executor first (it reports to the other two), then runs-service, then queue-service.
  for n in executor runs queue; do
    [ -n "${PID[$n]:-}" ] || continue
    kill -TERM "${PID[$n]}" 2>/dev/null || true
    wait "${PID[$n]}" 2>/dev/null || true
    unset "PID[$n]"
  done
  if [ -n "$PG_DATA" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
    PG_DATA=""
  fi
}
cleanup() {
  local rc=$?
  stop_all
  if [ $rc -ne 0 ]; then
    for f in "$WORK"/run*/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

database_yaml() {  # database_yaml DIR FILE
  if [ "$DB" = postgres ]; then
    cat <<YAML
database:
  type: postgres
  postgres: {host: 127.0.0.1, port: $PG_PORT, dbname: $2, username: postgres, passwordEnv: FLYTE_DB_PASSWORD,
             extraOptions: "sslmode=disable"}
  maxOpenConnections: 8
  maxIdleConnections: 4
YAML
  else
    printf 'database:\n  type: sqlite\n  sqlite: {file: "%s/%s.db"}\n' "$1" "$2"
  fi
}

# start_stack DIR: PostgreSQL (if DB=postgres), queue-service, runs-service, executor; waits for /readyz.
start_stack() {
  local dir=$1
  mkdir -p "$dir/data"
  chmod 755 "$dir"
  if [ "$DB" = postgres ]; then
    PG_PORT=$(free_port)
    mkdir -p "$dir/pg" && chown postgres "$dir/pg"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/pg/data" -A trust -U postgres >"$dir/initdb.log" 2>&1
    PG_DATA=$dir/pg/data
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -l "$dir/pg/server.log" \
      -o "-p $PG_PORT -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE queue"
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE runs"
  fi
  QUEUE_PORT=$(free_port) RUNS_PORT=$(free_port) EXEC_PORT=$(free_port)
  cat >"$dir/queue.yaml" <<YAML
queue:
  server: {host: 127.0.0.1, port: $QUEUE_PORT}
  leaseDuration: 15s
  pollInterval: 1s
  maxWaitMs: 30000
$(database_yaml "$dir" queue)
YAML
  cat >"$dir/runs.yaml" <<YAML
runs:
  server: {host: 127.0.0.1, port: $RUNS_PORT}
  storagePrefix: file://$dir/data
  workerThreads: 4
  queue: {endpoint: "127.0.0.1:$QUEUE_PORT", minBackoff: 50ms, maxBackoff: 500ms}
$(database_yaml "$dir" runs)
YAML
  cat >"$dir/executor.yaml" <<YAML
executor:
  server: {host: 127.0.0.1, port: $EXEC_PORT}
  queueEndpoint: "127.0.0.1:$QUEUE_PORT"
  runsEndpoint: "127.0.0.1:$RUNS_PORT"
  dataRoot: "$dir/data"
  killGracePeriod: 1s
  acquireWait: 10s
  maxConcurrentProcesses: $PROCS
YAML
  local name bin port
  for spec in queue:queue-service:$QUEUE_PORT runs:runs-service:$RUNS_PORT executor:executor:$EXEC_PORT; do
    IFS=: read -r name bin port <<<"$spec"
    (cd "$dir" && exec "$BIN/$bin" --config "$dir/$name.yaml") >>"$dir/$name.log" 2>&1 &
    PID[$name]=$!
    for _ in $(seq 1 150); do
      curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
      kill -0 "${PID[$name]}" 2>/dev/null || { echo "bench-stack: $name exited" >&2; exit 1; }
      sleep 0.1
    done
  done
  DATA_PREFIX="file://$dir/data"
}

loadgen() {  # loadgen MODE JSON_OUT ARGS...
  local mode=$1 out=$2
  shift 2
  "$BIN/flyte-loadgen" "$mode" --target "127.0.0.1:$RUNS_PORT" --executor-pid "${PID[executor]}" \
    --storage-prefix "$DATA_PREFIX" --project bench --domain development --json "$out" "$@"
}

RESULTS=""
STACK_NO=0
for DB in $BACKENDS; do
  STACK_NO=$((STACK_NO + 1)); start_stack "$WORK/run$STACK_NO"
  echo "=== $DB: stack-latency ($RUNS runs at $RATE/s, burst $BURST)"
  loadgen stack-latency "$RAW/$DB-latency.json" --runs "$RUNS" --rate "$RATE" --burst "$BURST" --concurrency 16
  echo "=== $DB: chain ($STEPS steps)"
  loadgen chain "$RAW/$DB-chain.json" --steps "$STEPS" --rss-every 100
  stop_all
  for c in $CHILDREN; do
    for i in $(seq 1 "$FANOUTS"); do
      STACK_NO=$((STACK_NO + 1)); start_stack "$WORK/run$STACK_NO"
      echo "=== $DB: fanout ($c children, fresh stack, $i of $FANOUTS)"
      loadgen fanout "$RAW/$DB-fanout-$c-$i.json" --children "$c" --concurrency 8 || echo "fanout $c FAILED" >&2
      stop_all
      rm -rf "$WORK/run$STACK_NO/data"  # tens of thousands of attempt directories
    done
    # The median run (by leaves/s) is the one reported; every run's figure is listed next to it.
    runs=$(for f in "$RAW/$DB-fanout-$c"-*.json; do [ -s "$f" ] && echo "$(jq -r .leaves_per_second "$f") $f"; done | sort -n)
    if [ -n "$runs" ]; then
      n=$(echo "$runs" | wc -l)
      cp "$(echo "$runs" | sed -n "$(((n + 1) / 2))p" | cut -d' ' -f2)" "$RAW/$DB-fanout-$c.json"
      echo "$runs" | awk '{printf "%d ", $1}' >"$RAW/$DB-fanout-$c.all"
    fi
  done
done

# ------------------------------------------------------------------------------------------------- report
rss_line() {  # rss_line JSON: "0:12.3 1000:12.5 ..." in MiB
  jq -r '[.executor_rss[] | "\(.completed): \((.rss_kib / 1024 * 10 | round) / 10)"] | join(", ")' "$1"
}
rss_growth() {  # MiB between the first sample after warm-up (>= 1000 or the 2nd) and the last
  jq -r '.executor_rss as $s | ($s | map(select(.completed > 0)) ) as $t |
    if ($t | length) < 2 then "n/a" else ((($t[-1].rss_kib - $t[0].rss_kib) / 1024 * 10 | round) / 10 | tostring) end' "$1"
}
met() { if [ "$1" = 1 ]; then echo "**met**"; else echo "**not met**"; fi; }
# A hand-written "## Analysis" section at the end of $OUT survives the rewrite (it says which run it was written for).
ANALYSIS=""
[ -f "$OUT" ] && ANALYSIS=$(sed -n '/^## Analysis/,$p' "$OUT")
{
  echo "# Whole-stack benchmarks (runs-service -> queue-service -> executor)"
  echo
  echo "Generated by \`scripts/bench-stack.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')."
  echo "Command: \`${ENV_USED}${COMMAND}\`."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(. /etc/os-release && echo "$PRETTY_NAME"); the cores are shared with other work, so treat figures as indicative."
  echo "Everything runs on this one machine: the three services, the load generator and every task process."
  echo "Tasks are no-op container tasks run as local processes (\`sh -c true\`); executor.maxConcurrentProcesses = $PROCS; queue.pollInterval 1s, executor.acquireWait 10s (long-poll: work is handed out as soon as it is enqueued)."
  echo "Latencies are measured by the client: from just before the call that creates the action (CreateRun or QueueService.EnqueueAction) until the SUCCEEDED update arrives on a stream (WatchRuns for runs, StateService.Watch(parent) for children)."
  echo
  for DB in $BACKENDS; do
    L=$RAW/$DB-latency.json C=$RAW/$DB-chain.json
    echo "## $DB"
    echo
    echo "| Figure | Value | Flyte v2 (published) | Target | |"
    echo "|---|---|---|---|---|"
    if [ -s "$L" ]; then
      jq -r '"| enqueue -> SUCCEEDED, \(.latency.count) runs at \(.latency.rate_per_s)/s | p50 \(.latency.p50_ms | floor) ms, p99 \(.latency.p99_ms | floor) ms | | | |"' "$L"
      jq -r '"| burst of \(.burst.runs) runs (\(.burst.concurrency) creating clients) -> all SUCCEEDED | \(.burst.seconds_to_all_succeeded * 100 | round / 100) s = **\(.burst.actions_per_second | floor) actions/s** (failed \(.burst.failed)) | | | |"' "$L"
    fi
    if [ -s "$C" ]; then
      ms=$(jq -r '.seconds_per_step * 1000 * 10 | round / 10' "$C")
      ok=$(jq -r 'if .seconds_per_step < 0.020 then 1 else 0 end' "$C")
      jq -r --arg met "$(met "$ok")" '"| chain of \(.steps) sequential children, per step | **\(.seconds_per_step * 1000 * 10 | round / 10) ms** (p50 \(.step_latency.p50_ms * 10 | round / 10) ms, p99 \(.step_latency.p99_ms * 10 | round / 10) ms; total \(.total_seconds * 10 | round / 10) s) | 0.17 s | < 20 ms | \($met) |"' "$C"
    fi
    for c in $CHILDREN; do
      F=$RAW/$DB-fanout-$c.json
      if [ -s "$F" ]; then
        ok=$(jq -r 'if .leaves_per_second >= 500 then 1 else 0 end' "$F")
        all=$(cat "$RAW/$DB-fanout-$c.all" 2>/dev/null | sed 's/ $//; s/ /, /g')
        jq -r --arg met "$(met "$ok")" --arg all "$all" '"| fan-out of \(.children) children -> all SUCCEEDED | **\(.leaves_per_second | floor) leaves/s** (median of runs at \($all) leaves/s; the median run: \(.seconds_to_all_succeeded * 10 | round / 10) s, enqueue took \(.enqueue_seconds * 10 | round / 10) s, failed \(.failed)) | ~52 leaves/s | >= 500/s | \($met) |"' "$F"
      else
        echo "| fan-out of $c children | failed / not run | ~52 leaves/s | >= 500/s | |"
      fi
    done
    echo
    echo "Executor VmRSS (MiB) by completed actions (flat = no per-action growth; Flyte v2 published ~54 MiB per 1,000 actions):"
    echo
    [ -s "$L" ] && echo "- stack-latency (paced + burst): $(rss_line "$L"); growth after the first 1,000: $(rss_growth "$L") MiB"
    [ -s "$C" ] && echo "- chain: $(rss_line "$C"); growth: $(rss_growth "$C") MiB"
    for c in $CHILDREN; do
      F=$RAW/$DB-fanout-$c.json
      [ -s "$F" ] && echo "- fan-out $c: $(rss_line "$F"); growth after the first 1,000: $(rss_growth "$F") MiB"
    done
    echo
  done
  [ -n "$ANALYSIS" ] && printf '%s\n' "$ANALYSIS"
} >"$OUT"
echo "bench-stack: wrote $OUT"
cat "$OUT"
