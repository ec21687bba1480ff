#!/usr/bin/env bash
# Where the CPU of a fan-out goes: starts runs-service, queue-service and executor (on SQLite, or with
# DB=postgres on a throwaway PostgreSQL) on free ports, runs one fan-out of N no-op children with flyte-loadgen, and
# prints the CPU each service (and the task processes, the load generator and PostgreSQL) spent per action, from
# /proc/<pid>/stat. On PostgreSQL it also splits PostgreSQL's CPU by process (runs / queue backends, WAL writer,
# autovacuum, ...) and prints the statements that took the most time (pg_stat_statements, with buffers per call);
# RUNS_SQL / QUEUE_SQL run against the two databases first (to try an index or setting).
# With `perf`, also records each service with `perf record --call-graph dwarf` into the run directory (printed
# last, kept) for `perf report`. The run directory is deleted at exit; on ext4 the next run within a few minutes
# pays for that (new inodes skip recently deleted ones), so compare runs spaced apart or with KEEP=1.
#
#   (TOP=N statements, ORDER=calls to rank by calls, QUERY_CHARS=N characters of each statement shown.)
#   scripts/fanout-cpu.sh 1000      DB=postgres scripts/fanout-cpu.sh 1000      BUILD_DIR=build-x scripts/fanout-cpu.sh 1000 perf
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/${BUILD_DIR:-build}/bin
DB=${DB:-sqlite}
PROCS=${PROCS:-16}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
N=${1:?usage: scripts/fanout-cpu.sh CHILDREN [perf]}
PERF=${2:-}
[ "$DB" = postgres ] && PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
source "$ROOT/scripts/lib/stack.sh"
D=$(mktemp -d /tmp/flyte-fanout-cpu-XXXXXX)
cleanup() {
  local rc=$?
  stop_all
  [ -n "$PERF" ] || [ -n "${KEEP:-}" ] || rm -rf "$D"
  exit $rc
}
trap cleanup EXIT
start_stack "$D"
if [ "$DB" = postgres ]; then
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d runs -qc "CREATE EXTENSION pg_stat_statements"
  # Experiments: RUNS_SQL / QUEUE_SQL run against the two databases before the fan-out (e.g. an index to try).
  [ -z "${RUNS_SQL:-}" ] || runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d runs -qc "$RUNS_SQL"
  [ -z "${QUEUE_SQL:-}" ] || runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d queue -qc "$QUEUE_SQL"
fi

HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }        # the process's own CPU, in ticks
ccpu() { awk '{print $16+$17}' "/proc/$1/stat"; }       # its reaped children's (the task processes)
pgcpu() {                                                # every PostgreSQL process (pooled backends stay up)
  if [ "$DB" = postgres ]; then
    local t=0 p
    for p in $(pgrep -u postgres); do t=$((t + $(cpu "$p" 2>/dev/null || echo 0))); done
    echo $t
  else echo 0; fi
}
pgprocs() {                                               # PostgreSQL CPU ticks by process kind, one "kind ticks" a line
  local p
  for p in $(pgrep -u postgres); do
    printf '%s %s\n' "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed -E 's/^postgres: ?//; s/ (idle|in transaction|[A-Z]+).*//; s/127\.0\.0\.1\([0-9]+\)/client/; s/ +$//; s/ /_/g; s#^/.*#postmaster#')" \
      "$(cpu "$p" 2>/dev/null || echo 0)"
  done | awk '{t[$1] += $2} END {for (k in t) print k, t[k]}'
}
per_action() { echo "($2-$1)*1000/$HZ/$N" | bc -l | cut -c1-5; }
if [ "$PERF" = perf ]; then
  for n in queue runs executor; do
    perf record -F 499 --call-graph dwarf,16384 -o "$D/perf-$n.data" -p "${PID[$n]}" >/dev/null 2>&1 &
  done
  sleep 1
fi
b_c=$(ccpu "${PID[executor]}") b_r=$(cpu "${PID[runs]}") b_q=$(cpu "${PID[queue]}") b_e=$(cpu "${PID[executor]}")
b_p=$(pgcpu)
[ "$DB" = postgres ] && pgprocs >"$D/pg-cpu-before"
t0=$(date +%s.%N)
/usr/bin/time -f "loadgen cpu %U+%S s" "$BIN/flyte-loadgen" fanout --target "127.0.0.1:$RUNS_PORT" \
  --executor-pid "${PID[executor]}" --storage-prefix "$DATA_PREFIX" --project bench --domain development \
  --json "$D/fanout.json" --children "$N" --concurrency 8 2>&1 | tail -3
t1=$(date +%s.%N)
a_c=$(ccpu "${PID[executor]}") a_r=$(cpu "${PID[runs]}") a_q=$(cpu "${PID[queue]}") a_e=$(cpu "${PID[executor]}")
a_p=$(pgcpu)
[ "$DB" = postgres ] && pgprocs >"$D/pg-cpu-after"
echo "wall $(echo "$t1-$t0" | bc) s; CPU ms/action: runs $(per_action "$b_r" "$a_r") queue $(per_action "$b_q" "$a_q")" \
  "executor $(per_action "$b_e" "$a_e") tasks $(per_action "$b_c" "$a_c")" \
  "$([ "$DB" = postgres ] && echo "postgres $(per_action "$b_p" "$a_p")")"
jq -c '{leaves_per_second, seconds_to_all_succeeded, enqueue_seconds}' "$D/fanout.json" 2>/dev/null || true
if [ "$DB" = postgres ]; then
  echo "--- postgres CPU ms/action by process (backends grouped by user, database and client)"
  join -a2 -e0 -o 0,1.2,2.2 <(sort "$D/pg-cpu-before") <(sort "$D/pg-cpu-after") |
    awk -v hz="$HZ" -v n="$N" '{d = ($3 - $2) * 1000 / hz / n; if (d > 0) printf "  %-40s %.3f\n", $1, d}' | sort -k2 -rn
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d runs -Atc \
    "SELECT datname || ': ' || round(xact_commit::numeric / $N, 2) || ' commits/action' FROM pg_stat_database
     WHERE datname IN ('runs', 'queue')" 2>/dev/null
  for db in runs queue; do
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -Atc \
      "SELECT '$db.' || relname || ': ' || round(n_tup_ins::numeric / $N, 2) || ' inserts, ' ||
              round(n_tup_upd::numeric / $N, 2) || ' updates (' || round(n_tup_hot_upd::numeric / $N, 2) ||
              ' HOT), ' || round(n_tup_del::numeric / $N, 2) || ' deletes per action'
       FROM pg_stat_user_tables WHERE n_tup_ins > 0 ORDER BY relname" 2>/dev/null
  done
  # QUEUE_SQL_AFTER: run against the queue database after the fan-out, output shown (e.g. an EXPLAIN).
  [ -z "${QUEUE_SQL_AFTER:-}" ] || runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d queue -c "$QUEUE_SQL_AFTER"
  for db in runs queue; do
    echo "--- $db: statements by execution + planning time (calls per action, mean execution ms, mean planning ms, buffers per call)"
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d runs -Atc \
      "SELECT round(total_exec_time + total_plan_time)::text || ' ms', round(calls::numeric / $N, 2) || '/action', round(plans::numeric / $N, 2) || ' plans',
              round(mean_exec_time::numeric, 3) || ' ms', round(mean_plan_time::numeric, 3) || ' ms plan',
              round((shared_blks_hit + shared_blks_read)::numeric / greatest(calls, 1)) || ' blocks',
              left(regexp_replace(query, '\s+', ' ', 'g'), ${QUERY_CHARS:-100})
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')
       ORDER BY ${ORDER:-total_exec_time + total_plan_time} DESC LIMIT ${TOP:-10}" 2>/dev/null | tr '|' ' '
  done
fi
if [ "$PERF" = perf ]; then pkill -INT -f "perf record -F 499 --call-graph dwarf,16384 -o $D" || true; sleep 3; echo "$D"; fi
