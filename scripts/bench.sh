#!/usr/bin/env bash
# Benchmarks runs-service with tools/loadgen (flyte-loadgen) on SQLite and on a throwaway PostgreSQL, over gRPC and
# over Connect (HTTP/1.1), and writes docs/benchmarks.md. Not a test: the figures depend on the machine.
#
#   scripts/bench.sh                 build (scripts/build.sh), run everything (< 10 min), write docs/benchmarks.md
#   SKIP_BUILD=1 BUILD_DIR=build-x scripts/bench.sh   use binaries already built in build-x
#   BACKENDS="sqlite" TRANSPORTS="grpc" REPEAT=1 scripts/bench.sh   a quicker subset
#   OUT=/tmp/b.md KEEP_RAW=/tmp/raw scripts/bench.sh   write the report elsewhere, keep the loadgen JSON
#
# Knobs (env): DURATION (5s per short scenario), REPEAT (3; the report quotes the median), RATE (500),
# CONCURRENCY (32), PG_CONCURRENCY (16: the PostgreSQL write cases), STREAMS (5000), EVENT_RATES ("2 10": runs
# created per second while the streams are held; the first is the target scenario, the others are stress),
# WATCH_SECONDS (10), PG_BIN (/usr/lib/postgresql/15/bin), RUNS_WORKERS (runs.workerThreads; unset = the service's
# default), SCENARIOS ("all"; "pg-writes" runs only the PostgreSQL write cases: CreateRun with PG_CONCURRENCY clients
# through runs-service, and CreateRun / EnqueueAction / state reports with PG_CONCURRENCY threads straight on the
# repository, tests/runs_postgres_write_throughput_test; BACKENDS must include postgres).
#
#   SKIP_BUILD=1 BACKENDS=postgres TRANSPORTS=connect SCENARIOS=pg-writes REPEAT=5 OUT=/tmp/pg.md scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
COMMAND="$0${*:+ $*}"
ENV_USED=""
for v in SKIP_BUILD BUILD_DIR BACKENDS TRANSPORTS REPEAT DURATION RATE CONCURRENCY PG_CONCURRENCY STREAMS EVENT_RATES \
  WATCH_SECONDS SCENARIOS RUNS_WORKERS OUT; do
  if [ -n "${!v:-}" ]; then ENV_USED+="$v=$(printf %q "${!v}") "; fi
done
BUILD_DIR=${BUILD_DIR:-build}
BACKENDS=${BACKENDS:-"sqlite postgres"}
TRANSPORTS=${TRANSPORTS:-"grpc connect"}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5s}
RATE=${RATE:-500}
CONCURRENCY=${CONCURRENCY:-32}
PG_CONCURRENCY=${PG_CONCURRENCY:-16}
SCENARIOS=${SCENARIOS:-all}
STREAMS=${STREAMS:-5000}
WATCH_SECONDS=${WATCH_SECONDS:-10}
EVENT_RATES=${EVENT_RATES:-"2 10"}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
OUT=${OUT:-$ROOT/docs/benchmarks.md}

if [ -z "${SKIP_BUILD:-}" ]; then
  BUILD_DIR=$BUILD_DIR bash scripts/build.sh
fi
SERVER=$ROOT/$BUILD_DIR/bin/runs-service
LOADGEN=$ROOT/$BUILD_DIR/bin/flyte-loadgen
PG_WRITES=$ROOT/$BUILD_DIR/tests/runs_postgres_write_throughput_test
for b in "$SERVER" "$LOADGEN" $(case " $BACKENDS " in *" postgres "*) echo "$PG_WRITES";; esac); do
  [ -x "$b" ] || { echo "bench: $b not built" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/flyte-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS=$WORK/results
mkdir -p "$RESULTS"
SERVER_PID=""
PG_DATA=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

start_postgres() {
  PG_PORT=$(free_port)
  mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
  PG_DATA=$WORK/pg/data
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >"$WORK/initdb.log" 2>&1
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/pg.log" -w \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres flyte_runs
  log "PostgreSQL on 127.0.0.1:$PG_PORT"
}

# start_server BACKEND -> sets SERVER_PID, PORT
# Every project a scenario below uses (runs in unknown projects are NOT_FOUND), for runs.projects.
bench_projects() {
  local out="" t i rate
  for t in $TRANSPORTS; do
    for i in $(seq 1 "$REPEAT"); do out+="create$i$t,get$i$t,list$i$t,pgcreate$i$t,"; done
    for rate in $EVENT_RATES; do out+="watch$t$rate,"; done
  done
  echo "${out%,}"
}

start_server() {
  local backend=$1 cfg=$WORK/runs-$1.yaml
  PORT=$(free_port)
  if [ "$backend" = sqlite ]; then
    mkdir -p "$WORK/sqlite"
    cat >"$cfg" <<YAML
runs:
  server: {host: 127.0.0.1, port: $PORT}
  watchBufferSize: 100
  projects: "$(bench_projects)"
database:
  sqlite: {file: $WORK/sqlite/runs.db}
YAML
  else
    cat >"$cfg" <<YAML
runs:
  server: {host: 127.0.0.1, port: $PORT}
  watchBufferSize: 100
  projects: "$(bench_projects)"${RUNS_WORKERS:+
  workerThreads: $RUNS_WORKERS}
database:
  postgres: {host: 127.0.0.1, port: $PG_PORT, dbname: flyte_runs, username: postgres, password: postgres}
YAML
  fi
  "$SERVER" --config "$cfg" >"$WORK/server-$backend.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "bench: runs-service ($backend) exited; log:" >&2; tail -20 "$WORK/server-$backend.log" >&2; exit 1
    fi
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "bench: runs-service never became ready" >&2; exit 1; }
  log "runs-service ($backend) pid $SERVER_PID on :$PORT"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# run NAME ARGS... : one loadgen invocation, JSON to $RESULTS/NAME.json, table to the console.
run() {
  local name=$1; shift
  log "$name: flyte-loadgen $*"
  if ! timeout 120 "$LOADGEN" "$@" --target "127.0.0.1:$PORT" --json "$RESULTS/$name.json" >&2; then
    echo "{\"failed\": true, \"name\": \"$name\"}" >"$RESULTS/$name.json"
    log "$name FAILED"
  fi
}

START=$(date +%s)
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $BACKENDS; do
  [ "$backend" = postgres ] && start_postgres
  start_server "$backend"
  sleep 1
  echo "{\"idle_rss_kb\": $(rss_kb "$SERVER_PID")}" >"$RESULTS/$backend-idle.json"
  if [ "$backend" = postgres ]; then
    # CreateRun with PG_CONCURRENCY clients (fsync on), alternating with the repository-level write benchmark.
    for i in $(seq 1 "$REPEAT"); do
      for t in $TRANSPORTS; do
        run "$backend-$t-pgcreate-$i" create --transport "$t" --rate 0 --concurrency "$PG_CONCURRENCY" \
          --duration "$DURATION" --project "pgcreate$i$t" --server-pid "$SERVER_PID"
      done
      log "postgres-writes-$i: $PG_WRITES [.benchmark], $PG_CONCURRENCY clients"
      FLYTE_BENCH_PG="127.0.0.1:$PG_PORT/flyte_runs" FLYTE_BENCH_CLIENTS=$PG_CONCURRENCY \
        FLYTE_BENCH_SECONDS=${DURATION%s} timeout 120 "$PG_WRITES" '[.benchmark]' \
        | grep '^{' >"$RESULTS/postgres-writes-$i.jsonl" || log "postgres-writes-$i FAILED"
    done
  fi
  if [ "$SCENARIOS" = pg-writes ]; then stop_server; continue; fi
  for t in $TRANSPORTS; do
    for i in $(seq 1 "$REPEAT"); do
      run "$backend-$t-create-$i" create --transport "$t" --rate 0 --concurrency "$CONCURRENCY" --duration "$DURATION" \
        --project "create$i$t" --server-pid "$SERVER_PID"
      run "$backend-$t-get-$i" get --transport "$t" --rate "$RATE" --duration "$DURATION" --warmup 200 \
        --project "get$i$t" --server-pid "$SERVER_PID"
      run "$backend-$t-list-$i" list --transport "$t" --rate "$RATE" --duration "$DURATION" --warmup 200 \
        --project "list$i$t" --server-pid "$SERVER_PID"
    done
  done
  # Each watch run gets a freshly started server (same database) so its RSS is the streams' alone.
  for rate in $EVENT_RATES; do
    for t in $TRANSPORTS; do
      stop_server
      start_server "$backend"
      sleep 1
      run "$backend-$t-watch-r$rate" watch --transport "$t" --streams "$STREAMS" --events $((rate * WATCH_SECONDS)) \
        --event-rate "$rate" --server-pid "$SERVER_PID" --project "watch$t$rate" --drain 10s
    done
  done
  stop_server
done
ELAPSED=$(( $(date +%s) - START ))

mkdir -p "$(dirname "$OUT")"
MACHINE_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MACHINE_RAM_MB=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then COMMIT="$COMMIT (with uncommitted changes)"; fi
export RESULTS OUT ELAPSED BUILD_DIR BACKENDS TRANSPORTS REPEAT DURATION RATE CONCURRENCY STREAMS EVENT_RATES WATCH_SECONDS
export PG_CONCURRENCY SCENARIOS
export MACHINE_CPU MACHINE_RAM_MB COMMIT LOAD_START
export BENCH_COMMAND="${ENV_USED}${COMMAND}" MACHINE_NPROC=$(nproc) MACHINE_KERNEL=$(uname -r)
export MACHINE_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
python3 - <<'PY'
# Turns the loadgen JSON files into docs/benchmarks.md: medians of the repeats, ratios, and a verdict per target.
import glob, json, os, statistics

E = os.environ
R = E["RESULTS"]
backends = E["BACKENDS"].split()
transports = E["TRANSPORTS"].split()
repeat = int(E["REPEAT"])

def load(name):
    try:
        with open(os.path.join(R, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def runs(b, t, mode):
    out = [load(f"{b}-{t}-{mode}-{i}") for i in range(1, repeat + 1)]
    return [r for r in out if r and not r.get("failed")]

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt(x, nd=1):
    if x is None:
        return "n/a"
    return f"{x:,.{nd}f}"

def errs(rs):
    total = {}
    for r in rs:
        for k, v in r.get("errors", {}).items():
            total[k] = total.get(k, 0) + v
    return ", ".join(f"{k} x{v}" for k, v in sorted(total.items())) or "none"

def cpu(rs):
    return fmt(med([r.get("extra", {}).get("server_cpu_us_per_ok_call") for r in rs]), 0)

def samples(rs):
    out = {}
    for r in rs:
        for k, v in r.get("error_samples", {}).items():
            out.setdefault(k, v)
    return out

lines = []
w = lines.append
w("# runs-service benchmarks")
w("")
w("Measured with `flyte-loadgen` (tools/loadgen) by `scripts/bench.sh`. Client and server share the same machine and")
w("its cores, and other work ran on the machine at the same time: read the figures as medians of noisy runs, and the")
w("ratios between them as more telling than the absolute values. These are measurements, not tests.")
w("")
w("## Machine and command")
w("")
w(f"- date: {E['BENCH_DATE']}; commit: {E['COMMIT']}; build: {E['BUILD_DIR']} (RelWithDebInfo)")
w(f"- CPU: {E['MACHINE_CPU']}, `nproc` = {E['MACHINE_NPROC']}; RAM: {int(E['MACHINE_RAM_MB']):,} MB; "
  f"kernel {E['MACHINE_KERNEL']}; load average (1/5/15 min) at the start: {E['LOAD_START']}, at the end: "
  f"{E['MACHINE_LOAD']}")
w(f"- command: `{E['BENCH_COMMAND']}` (whole run {E['ELAPSED']} s)")
w(f"- short scenarios: {E['DURATION']} each, repeated {repeat}x, median quoted (min-max in brackets); "
  f"CreateRun closed loop with {E['CONCURRENCY']} in flight; Get/List open loop at {E['RATE']}/s, latency measured "
  "from the scheduled send time (no coordinated omission); watch: "
  f"{E['STREAMS']} streams held while runs are created for {E['WATCH_SECONDS']} s at each of "
  f"{', '.join(E['EVENT_RATES'].split())} runs/s (every stream should receive every run), each on a freshly started server.")
w("")

verdicts = []

def write_targets():
    w("## Targets")
    w("")
    w("| target | measured (median) | met? |")
    w("|---|---|---|")
    for name, val, ok in verdicts:
        w(f"| {name} | {val} | {'met' if ok else '**not met**'} |")
    w("")

def pg_writes_section():
    """CreateRun through runs-service with PG_CONCURRENCY clients, and the repository-level write benchmark."""
    pgc = int(E["PG_CONCURRENCY"])
    w(f"## PostgreSQL writes with {pgc} clients (fsync on)")
    w("")
    w("CreateRun through runs-service (flyte-loadgen, closed loop, the scenario's own repeats), then the same writes")
    w("straight on the runs repository with as many threads (tests/runs_postgres_write_throughput_test, the store")
    w("listening for changes as runs-service does): CreateRun, EnqueueAction (a child action with its queue command,")
    w("CreateActionAndRecord), StateReport (one ApplyEvent per transaction) and StateReportBatch16 (state reports")
    w("16 per ApplyEvents transaction, as the executor batches them under load; reports per second, latency per")
    w("batch). Same PostgreSQL, runs alternating.")
    w("Before/after of each change behind these figures (NOTIFY out of the writing transaction, CreateRun in one")
    w("statement, then in one round trip, state reports in 5 round trips, then from the remembered row in 1 with key")
    w("lookups through the primary key): [benchmarks-postgres-writes.md](benchmarks-postgres-writes.md).")
    w("")
    w("| scenario | per second median [min-max] | p50 ms | p99 ms | errors |")
    w("|---|---|---|---|---|")
    for t in transports:
        rs = runs("postgres", t, "pgcreate")
        if not rs:
            continue
        rates = [r["achieved_rate"] for r in rs]
        p99 = med([r["latency_ms"]["p99"] for r in rs])
        w(f"| CreateRun via runs-service ({t}) | {fmt(med(rates), 0)} [{fmt(min(rates), 0)}-{fmt(max(rates), 0)}] | "
          f"{fmt(med([r['latency_ms']['p50'] for r in rs]), 2)} | {fmt(p99, 2)} | {errs(rs)} |")
        verdicts.append((f">= 2,500 CreateRun/s with p99 < 50 ms on PostgreSQL, {pgc} clients ({t})",
                         f"{med(rates):,.0f}/s, p99 {p99:.1f} ms", med(rates) >= 2500 and p99 < 50))
    repo = {}
    for i in range(1, repeat + 1):
        try:
            with open(os.path.join(R, f"postgres-writes-{i}.jsonl")) as f:
                for line in f:
                    d = json.loads(line)
                    repo.setdefault(d["scenario"], []).append(d)
        except (OSError, ValueError):
            pass
    for name, rs in repo.items():
        rates = [r["per_second"] for r in rs]
        w(f"| {name} on the repository | {fmt(med(rates), 0)} [{fmt(min(rates), 0)}-{fmt(max(rates), 0)}] | "
          f"{fmt(med([r['p50_ms'] for r in rs]), 2)} | {fmt(med([r['p99_ms'] for r in rs]), 2)} | "
          f"{sum(r['errors'] for r in rs) or 'none'} |")
        if name in ("EnqueueAction", "StateReport", "StateReportBatch16"):
            verdicts.append((f">= 2,500 {name}/s on PostgreSQL, {pgc} clients (repository)",
                             f"{med(rates):,.0f}/s", med(rates) >= 2500))
    w("")

if "postgres" in backends:
    pg_writes_section()

if E["SCENARIOS"] == "pg-writes":
    write_targets()
    with open(E["OUT"], "w") as f:
        f.write("\n".join(lines))
    raise SystemExit(0)

# Idle RSS
w("## Idle RSS (right after start, 1 s after /readyz)")
w("")
w("| backend | VmRSS |")
w("|---|---|")
idle = {}
for b in backends:
    d = load(f"{b}-idle")
    idle[b] = d["idle_rss_kb"] / 1024 if d else None
    w(f"| {b} | {fmt(idle[b])} MB |")
w("")
for b in backends:
    if idle[b] is not None:
        verdicts.append((f"idle RSS < 30 MB ({b})", f"{idle[b]:.1f} MB", idle[b] < 30))

# CreateRun
w("## CreateRun throughput (closed loop)")
w("")
w("| backend | transport | CreateRun/s median [min-max] | p50 ms | p99 ms | server CPU µs/call | errors |")
w("|---|---|---|---|---|---|---|")
create = {}
for b in backends:
    for t in transports:
        rs = runs(b, t, "create")
        rates = [r["achieved_rate"] for r in rs]
        create[(b, t)] = med(rates)
        rng = f" [{fmt(min(rates), 0)}-{fmt(max(rates), 0)}]" if rates else ""
        w(f"| {b} | {t} | {fmt(med(rates), 0)}{rng} | {fmt(med([r['latency_ms']['p50'] for r in rs]), 2)} | "
          f"{fmt(med([r['latency_ms']['p99'] for r in rs]), 2)} | {cpu(rs)} | {errs(rs)} |")
w("")
for t in transports:
    if create.get(("sqlite", t)) is not None:
        v = create[("sqlite", t)]
        verdicts.append((f">= 2,000 CreateRun/s on SQLite ({t})", f"{v:,.0f}/s", v >= 2000))

# Get / List
fixed = {}
for mode, title in (("get", "GetRunDetails"), ("list", "ListRuns (limit 50)")):
    w(f"## {title} at {E['RATE']}/s (open loop)")
    w("")
    w("| backend | transport | achieved/s | p50 ms | p90 ms | p99 ms median [min-max] | max ms | server CPU µs/call | errors |")
    w("|---|---|---|---|---|---|---|---|---|")
    for b in backends:
        for t in transports:
            rs = runs(b, t, mode)
            p99s = [r["latency_ms"]["p99"] for r in rs]
            fixed[(mode, b, t)] = med(p99s)
            rng = f" [{fmt(min(p99s), 2)}-{fmt(max(p99s), 2)}]" if p99s else ""
            w(f"| {b} | {t} | {fmt(med([r['achieved_rate'] for r in rs]), 0)} | "
              f"{fmt(med([r['latency_ms']['p50'] for r in rs]), 2)} | {fmt(med([r['latency_ms']['p90'] for r in rs]), 2)} | "
              f"{fmt(med(p99s), 2)}{rng} | {fmt(med([r['latency_ms']['max'] for r in rs]), 2)} | {cpu(rs)} | {errs(rs)} |")
            if p99s:
                ok = med(p99s) < 10 and all(not r.get("errors") for r in rs)
                verdicts.append((f"p99 < 10 ms at {E['RATE']}/s, {title.split()[0]} ({b}, {t})",
                                 f"{med(p99s):.2f} ms" + ("" if all(not r.get('errors') for r in rs) else " (with errors)"),
                                 ok))
    w("")

# Watch
rates = [int(x) for x in E["EVENT_RATES"].split()]
w(f"## WatchRuns fan-out ({E['STREAMS']} streams)")
w("")
w("Delivery latency = time a stream received the run minus the time the CreateRun call returned to the creating client")
w("(clamped at 0; a stream can see the run before the creator sees its response). \"Late\" = not received within the")
w("10 s drain after the last CreateRun (no stream was dropped unless the lost column says so). Server RSS from")
w(f"/proc/PID/status. Deliveries per second = streams x runs/s. The first rate ({rates[0]}/s) is the target scenario.")
w("")
w("| backend | runs/s (deliveries/s) | transport | ready / held / lost streams | server RSS before / held / peak MB | delivery p50 / p99 / max ms | late | server CPU µs/delivery | errors |")
w("|---|---|---|---|---|---|---|---|---|")
for rate in rates:
    for b in backends:
        for t in transports:
            r = load(f"{b}-{t}-watch-r{rate}")
            dps = f"{rate} ({rate * int(E['STREAMS']):,})"
            name = f"{E['STREAMS']} watch streams < 300 MB RSS, delivery p99 < 250 ms at {rate} runs/s ({b}, {t})"
            if not r or r.get("failed"):
                w(f"| {b} | {dps} | {t} | run failed | | | | | |")
                if rate == rates[0]:
                    verdicts.append((name, "run failed", False))
                continue
            x = r["extra"]
            lat = r["latency_ms"]
            w(f"| {b} | {dps} | {t} | {x['streams_ready']} / {x['streams_held_at_end']} / "
              f"{x['streams_lost_during_run']} | {fmt(x['server_rss_mb_before_open'])} / {fmt(x['server_rss_mb_held'])} / "
              f"{fmt(x['server_rss_mb_peak_during_events'])} | "
              f"{fmt(lat['p50'], 1)} / {fmt(lat['p99'], 1)} / {fmt(lat['max'], 1)} | {x['deliveries_missing']:,} of "
              f"{x['deliveries_expected']:,} | {fmt(x.get('server_cpu_us_per_delivery'), 0)} | "
              f"{errs([r]) if any(not k.startswith('MISSING') for k in r.get('errors', {})) else 'none'} |")
            if rate == rates[0]:
                held_ok = x["streams_held_at_end"] >= int(E["STREAMS"])
                rss = x["server_rss_mb_peak_during_events"]
                ok = held_ok and rss is not None and 0 < rss < 300 and lat["p99"] < 250 \
                    and x["deliveries_missing"] == 0 and lat["count"] > 0
                verdicts.append((name, f"{x['streams_held_at_end']} held, peak {rss} MB, p99 {lat['p99']:.1f} ms, "
                                 f"{x['deliveries_missing']} late", ok))
w("")

# Ratios
w("## Ratios")
w("")
for b in backends:
    g, c = create.get((b, "grpc")), create.get((b, "connect"))
    if g and c:
        w(f"- CreateRun/s, Connect / gRPC on {b}: {c / g:.2f}")
for t in transports:
    s_, p_ = create.get(("sqlite", t)), create.get(("postgres", t))
    if s_ and p_:
        w(f"- CreateRun/s, PostgreSQL / SQLite over {t}: {p_ / s_:.2f}")
for mode in ("get", "list"):
    for b in backends:
        g, c = fixed.get((mode, b, "grpc")), fixed.get((mode, b, "connect"))
        if g and c:
            w(f"- {mode} p99, Connect / gRPC on {b}: {c / g:.2f}")
w("")

# Verdicts
write_targets()

# Error samples
all_samples = {}
for path in sorted(glob.glob(os.path.join(R, "*.json"))):
    try:
        d = json.load(open(path))
    except ValueError:
        continue
    if isinstance(d, dict):
        for k, v in d.get("error_samples", {}).items():
            all_samples.setdefault(k, (os.path.basename(path)[:-5], v))
        if d.get("failed"):
            all_samples.setdefault("loadgen failed", (d.get("name"), "see the console output"))
if all_samples:
    w("## Error messages seen (first of each kind)")
    w("")
    for k, (src, v) in sorted(all_samples.items()):
        w(f"- `{k}` in {src}: {v}")
    w("")

w("## Reproduce")
w("")
w("```")
w("scripts/bench.sh                                   # build, run everything (< 10 min), rewrite this file")
w("SKIP_BUILD=1 BUILD_DIR=build scripts/bench.sh      # reuse a build")
w("SKIP_BUILD=1 BACKENDS=postgres TRANSPORTS=connect SCENARIOS=pg-writes REPEAT=5 scripts/bench.sh  # PostgreSQL writes only")
w("build/bin/flyte-loadgen create --transport connect --rate 0 --concurrency 32 --duration 10s --target 127.0.0.1:8090")
w("build/bin/flyte-loadgen get --transport grpc --rate 500 --duration 10s")
w("build/bin/flyte-loadgen watch --transport both --streams 5000 --events 20 --event-rate 2 --server-pid $(pidof runs-service)")
w("```")
w("")
with open(E["OUT"], "w") as f:
    f.write("\n".join(lines))
PY
if [ -n "${KEEP_RAW:-}" ]; then mkdir -p "$KEEP_RAW" && cp "$RESULTS"/*.json* "$KEEP_RAW"/; fi
log "wrote $OUT in ${ELAPSED}s"
