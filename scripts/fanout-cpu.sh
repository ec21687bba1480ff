#!/usr/bin/env bash
# Where the CPU of a fan-out goes: starts runs-service, queue-service and executor (SQLite) on free ports, runs one
# fan-out of N no-op children with flyte-loadgen, and prints the CPU each service (and the task processes, and the
# load generator) spent per action, from /proc/<pid>/stat. With `perf`, also records each service with
# `perf record --call-graph dwarf` into the run directory (printed last) for `perf report`.
#
#   scripts/fanout-cpu.sh 1000            BUILD_DIR=build-x PROCS=16 scripts/fanout-cpu.sh 1000 perf
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/${BUILD_DIR:-build}/bin
D=$(mktemp -d /tmp/flyte-fanout-cpu-XXXXXX); chmod 755 $D; mkdir -p $D/data
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
QP=$(fp) RP=$(fp) EP=$(fp)
cat > $D/queue.yaml <<Y
queue:
  server: {host: 127.0.0.1, port: $QP}
  leaseDuration: 15s
  pollInterval: 1s
  maxWaitMs: 30000
database:
  type: sqlite
  sqlite: {file: "$D/queue.db"}
Y
cat > $D/runs.yaml <<Y
runs:
  server: {host: 127.0.0.1, port: $RP}
  storagePrefix: file://$D/data
  workerThreads: 4
  queue: {endpoint: "127.0.0.1:$QP", minBackoff: 50ms, maxBackoff: 500ms}
database:
  type: sqlite
  sqlite: {file: "$D/runs.db"}
Y
cat > $D/executor.yaml <<Y
executor:
  server: {host: 127.0.0.1, port: $EP}
  queueEndpoint: "127.0.0.1:$QP"
  runsEndpoint: "127.0.0.1:$RP"
  dataRoot: "$D/data"
  killGracePeriod: 1s
  acquireWait: 10s
  maxConcurrentProcesses: ${PROCS:-16}
Y
declare -A PID
for spec in queue:queue-service:$QP runs:runs-service:$RP executor:executor:$EP; do
  IFS=: read -r name bin port <<<"$spec"
  (cd $D && exec $BIN/$bin --config $D/$name.yaml) >>$D/$name.log 2>&1 &
  PID[$name]=$!
  for _ in $(seq 1 150); do curl -sf http://127.0.0.1:$port/readyz >/dev/null 2>&1 && break; sleep 0.1; done
done
HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
if [ "${2:-}" = perf ]; then
  for n in queue runs executor; do perf record -F 499 --call-graph dwarf,16384 -o $D/perf-$n.data -p ${PID[$n]} >/dev/null 2>&1 & done
  sleep 1
fi
ccpu() { awk '{print $16+$17}' /proc/$1/stat; }
b_c=$(ccpu ${PID[executor]})
b_r=$(cpu ${PID[runs]}) b_q=$(cpu ${PID[queue]}) b_e=$(cpu ${PID[executor]})
t0=$(date +%s.%N)
/usr/bin/time -f "loadgen cpu %U+%S s" $BIN/flyte-loadgen fanout --target 127.0.0.1:$RP --executor-pid ${PID[executor]} --storage-prefix file://$D/data --project bench --domain development --json $D/fanout.json --children $1 --concurrency 8 2>&1 | tail -3
t1=$(date +%s.%N)
a_c=$(ccpu ${PID[executor]})
a_r=$(cpu ${PID[runs]}) a_q=$(cpu ${PID[queue]}) a_e=$(cpu ${PID[executor]})
echo "wall $(echo "$t1-$t0"|bc) s; CPU ms/action: runs $(echo "($a_r-$b_r)*1000/$HZ/$1"|bc -l|cut -c1-5) queue $(echo "($a_q-$b_q)*1000/$HZ/$1"|bc -l|cut -c1-5) executor $(echo "($a_e-$b_e)*1000/$HZ/$1"|bc -l|cut -c1-5) tasks $(echo "($a_c-$b_c)*1000/$HZ/$1"|bc -l|cut -c1-5)"
jq -c '{leaves_per_second, seconds_to_all_succeeded, enqueue_seconds}' $D/fanout.json 2>/dev/null || true
curl -s http://127.0.0.1:$RP/metrics > $D/runs.metrics; curl -s http://127.0.0.1:$QP/metrics > $D/queue.metrics; curl -s http://127.0.0.1:$EP/metrics > $D/exec.metrics
if [ "${2:-}" = perf ]; then pkill -INT -f "perf record -F 499 --call-graph dwarf,16384 -o $D" || true; sleep 3; fi
for n in executor runs queue; do kill -TERM ${PID[$n]}; wait ${PID[$n]} 2>/dev/null || true; done
echo $D
