# Sourced by scripts/bench-stack.sh and scripts/fanout-cpu.sh: one stack of the real binaries on free ports.
# The caller sets BIN (binaries), DB (sqlite | postgres), PROCS (executor.maxConcurrentProcesses), PG_BIN and,
# optionally, PG_OPTIONS (extra `postgres -c` settings); start_stack fills PID[queue|runs|executor], RUNS_PORT,
# QUEUE_PORT, EXEC_PORT, DATA_PREFIX and, on PostgreSQL, PG_PORT and PG_DATA.
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
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/pg/data" -A trust -U postgres ${PG_INITDB_OPTIONS:-} >"$dir/initdb.log" 2>&1
    PG_DATA=$dir/pg/data
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -l "$dir/pg/server.log" \
      -o "-p $PG_PORT -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 ${PG_OPTIONS:-}" start >/dev/null
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
  projects: "bench"   # the project the load generator works in (runs in unknown projects are NOT_FOUND)
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
      kill -0 "${PID[$name]}" 2>/dev/null || { echo "$(basename "$0"): $name exited" >&2; exit 1; }
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
