#!/usr/bin/env bash
# End to end: Debian's real Prometheus scrapes the real services (docs/deploy.md#monitoring).
#   - queue-service, runs-service and executor (tests/e2e/lib/stack.sh, SQLite) and a flyte-manager, each on
#     127.0.0.1 and free ports; runs that succeed and fail go through both, and a watch stream is open while
#     Prometheus scrapes;
#   - `promtool check metrics` passes on each of the six /metrics pages;
#   - deploy/prometheus/prometheus.yaml (its targets pointed at this test's ports, 1 s intervals) passes
#     `promtool check config`; Prometheus started on it shows all six targets "up" in /api/v1/targets, a query of
#     each service's flyte metrics returns data, and its rules (deploy/prometheus/rules.yaml) are loaded and
#     evaluate without error, none firing; with queue-service stopped the outbox backlog shows in Prometheus and
#     FlyteServiceDown and FlyteOutboxBacklog go pending, and the outbox empties once it is back;
#   - rules.yaml passes `promtool check rules` and its unit tests (`promtool test rules rules_test.yaml`);
#   - the Grafana dashboard deploy/grafana/flyte-cpp.json is a valid `Dashboard` of the pinned @grafana/schema
#     (tsc --strict, offline: tests/e2e/lib/dashboard_check.sh), and every query of its panels returns data from
#     this test's Prometheus (tests/e2e/lib/dashboard_queries.py).
# Exits non-zero on the first failure; stops everything it started (services and Prometheus), also on failure.
DB=sqlite
source "$(dirname "$0")/lib/stack.sh"
source "$(dirname "$0")/lib/dashboard_check.sh"
T_START=$(date +%s)
for c in prometheus promtool; do
  command -v "$c" >/dev/null || fail "$c not found: scripts/bootstrap.sh installs it (Debian package prometheus)"
done
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null || fail "python3 with yaml is required (python3-yaml)"
PROM_DIR=$ROOT/deploy/prometheus

step "the shipped rules: promtool check rules and unit tests"
promtool check rules "$PROM_DIR/rules.yaml" >"$WORK/check" 2>&1 || { cat "$WORK/check" >&2; fail "promtool check rules"; }
(cd "$PROM_DIR" && promtool test rules rules_test.yaml) >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "promtool test rules"; }
echo "  $(grep -o '[0-9]* rules found' "$WORK/check"), valid; unit tests pass"

step "the Grafana dashboard deploy/grafana/flyte-cpp.json against @grafana/schema (tsc --strict, offline)"
check_dashboard_schema "$ROOT/deploy/grafana/flyte-cpp.json" "$WORK/grafana"
echo "  a valid Dashboard of @grafana/schema $(jq -r .version "$ROOT/tools/node_modules/@grafana/schema/package.json")"

step "queue-service, runs-service, executor and a flyte-manager on free ports"
start_stack
MGR_RUNS_PORT=$(free_port)
MGR_QUEUE_PORT=$(free_port)
MGR_EXEC_PORT=$(free_port)
cat >"$WORK/manager.yaml" <<YAML
manager:
  runsService: {host: 127.0.0.1, port: $MGR_RUNS_PORT}
  queueService: {host: 127.0.0.1, port: $MGR_QUEUE_PORT}
  executor: {host: 127.0.0.1, healthProbePort: $MGR_EXEC_PORT}
database:
  type: sqlite
  sqlite: {file: "$WORK/flyte.db"}
runs:
  storagePrefix: file://$WORK/mgr-data
  projects: "$PROJECT"
  domains: "$DOMAIN"
executor:
  dataRoot: "$WORK/mgr-data"
  killGracePeriod: 1s
YAML
[ -x "$BIN/flyte-manager" ] || fail "$BIN/flyte-manager not built"
(cd "$WORK" && exec "$BIN/flyte-manager" --config "$WORK/manager.yaml") >>"$WORK/manager.log" 2>&1 &
SVC_PID[manager]=$!
for port in $MGR_RUNS_PORT $MGR_QUEUE_PORT $MGR_EXEC_PORT; do wait_ready manager "http://127.0.0.1:$port/readyz"; done

# A watch stream over Connect (one enveloped JSON message: flags 0, 4-byte big-endian length), left open while
# Prometheus scrapes, so flyte_rpc_active_streams has a series.
watch_request() {  # watch_request FILE: WatchRuns of the test's project as one Connect envelope
  local body
  body=$(jq -cn --arg org "$ORG" --arg p "$PROJECT" --arg d "$DOMAIN" '{projectId: {organization: $org, name: $p, domain: $d}}')
  python3 -c 'import struct, sys; b = sys.argv[1].encode(); sys.stdout.buffer.write(b"\0" + struct.pack(">I", len(b)) + b)' \
    "$body" >"$1"
}
watch_request "$WORK/watch.req"
for w in watch:$RUNS_PORT watch-manager:$MGR_RUNS_PORT; do
  curl -s -N --max-time 120 -H 'content-type: application/connect+json' --data-binary "@$WORK/watch.req" \
    "http://127.0.0.1:${w##*:}/flyteidl2.workflow.RunService/WatchRuns" >"$WORK/${w%%:*}.out" 2>&1 &
  SVC_PID[${w%%:*}]=$!
done

step "runs through the stack and through flyte-manager: SUCCEEDED and FAILED"
scenario_success
scenario_failure
RUNS_PORT_SAVED=$RUNS_PORT
RUNS_PORT=$MGR_RUNS_PORT
create_run mok1 'echo hi' >/dev/null || fail "CreateRun mok1 on flyte-manager"
create_run mfail1 'exit 3' >/dev/null || fail "CreateRun mfail1 on flyte-manager"
wait_phase mok1 ACTION_PHASE_SUCCEEDED 30
wait_phase mfail1 ACTION_PHASE_FAILED 30
RUNS_PORT=$RUNS_PORT_SAVED
details no-such-run >/dev/null 2>&1 && fail "GetRunDetails of a missing run answered OK"   # a NOT_FOUND to count
# A watch that ends (the client goes away after 2 s), so finished watch streams are counted too.
curl -s -N --max-time 2 -H 'content-type: application/connect+json' --data-binary "@$WORK/watch.req" \
  "http://127.0.0.1:$RUNS_PORT/flyteidl2.workflow.RunService/WatchRuns" >/dev/null 2>&1 || true

step "promtool check metrics on every /metrics"
for t in runs:$RUNS_PORT queue:$QUEUE_PORT executor:$EXEC_PORT manager-runs:$MGR_RUNS_PORT \
  manager-queue:$MGR_QUEUE_PORT manager-executor:$MGR_EXEC_PORT; do
  curl -sf "http://127.0.0.1:${t##*:}/metrics" >"$WORK/metrics-${t%%:*}" || fail "GET /metrics of ${t%%:*}"
  promtool check metrics <"$WORK/metrics-${t%%:*}" >"$WORK/lint" 2>&1 ||
    { cat "$WORK/lint" >&2; fail "promtool check metrics: ${t%%:*}"; }
  echo "  ${t%%:*}: $(grep -c '^# TYPE' "$WORK/metrics-${t%%:*}") families, no lint problems"
done

step "Prometheus on deploy/prometheus/prometheus.yaml (targets: this test's ports)"
PROM_PORT=$(free_port)
mkdir -p "$WORK/prom"
cp "$PROM_DIR/rules.yaml" "$WORK/prom/rules.yaml"
# The shipped file with 1 s intervals and each localhost:PORT target replaced by the stack's and the manager's
# port of that service: the same jobs, so the rules see both.
python3 - "$PROM_DIR/prometheus.yaml" "$WORK/prom/prometheus.yaml" \
  "8090=$RUNS_PORT,$MGR_RUNS_PORT" "8089=$QUEUE_PORT,$MGR_QUEUE_PORT" "8081=$EXEC_PORT,$MGR_EXEC_PORT" <<'PY'
import sys, yaml
src, dst, *maps = sys.argv[1:]
ports = {m.split("=")[0]: m.split("=")[1].split(",") for m in maps}
cfg = yaml.safe_load(open(src))
cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
for job in cfg["scrape_configs"]:
    for sc in job["static_configs"]:
        sc["targets"] = [f"127.0.0.1:{p}" for t in sc["targets"] for p in ports[t.split(":")[1]]]
yaml.safe_dump(cfg, open(dst, "w"))
PY
promtool check config "$PROM_DIR/prometheus.yaml" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "promtool check config (shipped)"; }
promtool check config "$WORK/prom/prometheus.yaml" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "promtool check config"; }
prometheus --config.file="$WORK/prom/prometheus.yaml" --storage.tsdb.path="$WORK/prom/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >>"$WORK/prometheus.log" 2>&1 &
SVC_PID[prometheus]=$!
PROM=http://127.0.0.1:$PROM_PORT
wait_ready prometheus "$PROM/-/ready"

query() { curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1"; }
# wait_query PROMQL SECONDS: waits until the instant query returns at least one sample; prints the result count.
wait_query() {
  local q=$1 end=$(($(date +%s) + $2)) n=0
  while [ "$(date +%s)" -le "$end" ]; do
    n=$(query "$q" | jq '.data.result | length') || n=0
    [ "$n" -gt 0 ] && { echo "$n"; return 0; }
    sleep 0.5
  done
  fail "no data for '$q' after $2 s: $(query "$q")"
}

step "/api/v1/targets: all six up"
end=$(($(date +%s) + 30))
while true; do
  up=$(curl -sf "$PROM/api/v1/targets" | jq '[.data.activeTargets[] | select(.health == "up")] | length') || up=0
  [ "$up" = 6 ] && break
  [ "$(date +%s)" -gt "$end" ] && fail "$up of 6 targets up after 30 s: $(curl -sf "$PROM/api/v1/targets" |
    jq -c '[.data.activeTargets[] | {job: .labels.job, instance: .labels.instance, health, lastError}]')"
  sleep 0.5
done
curl -sf "$PROM/api/v1/targets" | jq -r '.data.activeTargets[] | "  \(.labels.job) \(.labels.instance) \(.health)"' | sort

step "queries of flyte metrics return data"
for q in 'up{job=~"flyte-.*"} == 1' \
  'flyte_rpc_requests_total{job="flyte-runs-service", method="/flyteidl2.workflow.RunService/CreateRun", code="OK"}' \
  'flyte_rpc_duration_seconds_bucket{job="flyte-runs-service"}' \
  'flyte_rpc_active_streams{job="flyte-runs-service", method="/flyteidl2.workflow.RunService/WatchRuns"} > 0' \
  'flyte_db_query_duration_seconds_count{store="runs"}' 'flyte_db_query_duration_seconds_count{store="queue"}' \
  'flyte_queue_depth{job="flyte-queue-service"}' 'flyte_queue_enqueued_total{job="flyte-queue-service"} > 0' \
  'flyte_runs_outbox_pending{job="flyte-runs-service"}' \
  'flyte_executor_actions_total{job="flyte-executor", phase="SUCCEEDED"} > 0' \
  'flyte_executor_actions_total{job="flyte-executor", phase="FAILED"} > 0' \
  'flyte_executor_enqueue_to_running_seconds_count{job="flyte-executor"} > 0' \
  'flyte_executor_running_processes{job="flyte-executor"}'; do
  echo "  $(wait_query "$q" 30) series: $q"
done
# flyte-manager's three ports are in the same jobs: its runs reached its executor too.
[ "$(query "flyte_executor_actions_total{instance=\"127.0.0.1:$MGR_EXEC_PORT\", phase=\"SUCCEEDED\"} > 0" |
  jq '.data.result | length')" -gt 0 ] || fail "no SUCCEEDED actions counted by flyte-manager's executor"

step "every query of the dashboard's panels returns data"
python3 "$ROOT/tests/e2e/lib/dashboard_queries.py" "$PROM" "$ROOT/deploy/grafana/flyte-cpp.json" ||
  fail "dashboard queries without data"

step "the rules are loaded and evaluate without errors; none fires"
end=$(($(date +%s) + 20))
while true; do
  rules=$(curl -sf "$PROM/api/v1/rules") || fail "GET /api/v1/rules"
  n=$(jq '[.data.groups[].rules[]] | length' <<<"$rules")
  ok=$(jq '[.data.groups[].rules[] | select(.health == "ok")] | length' <<<"$rules")
  [ "$n" -gt 0 ] && [ "$ok" = "$n" ] && break
  [ "$(date +%s)" -gt "$end" ] && fail "rules not all healthy: $(jq -c '[.data.groups[].rules[] | {name, health, lastError}]' <<<"$rules")"
  sleep 0.5
done
firing=$(curl -sf "$PROM/api/v1/alerts" | jq -r '[.data.alerts[] | .labels.alertname] | join(" ")')
[ -z "$firing" ] || fail "alerts pending or firing on a healthy stack: $firing"
echo "  $n rules, all evaluated (health ok), no alert pending"

step "queue-service stopped: the outbox backlog shows, FlyteServiceDown and FlyteOutboxBacklog go pending; back to 0 after"
# alert_state NAME: pending|firing, or empty when the alert is inactive.
alert_state() { curl -sf "$PROM/api/v1/alerts" | jq -r --arg a "$1" '[.data.alerts[] | select(.labels.alertname == $a) | .state][0] // ""'; }
stop queue
create_run qd1 'echo later' >/dev/null || fail "CreateRun with queue-service down"
echo "  $(wait_query 'flyte_runs_outbox_pending{job="flyte-runs-service"} > 0' 30) series: flyte_runs_outbox_pending > 0"
echo "  $(wait_query 'rate(flyte_runs_outbox_send_failures_total{job="flyte-runs-service"}[1m]) > 0' 30) series: send failures rising"
for a in FlyteServiceDown FlyteOutboxBacklog; do
  end=$(($(date +%s) + 30))
  until [ "$(alert_state $a)" = pending ]; do
    [ "$(date +%s)" -gt "$end" ] && fail "$a not pending 30 s after queue-service stopped: $(curl -sf "$PROM/api/v1/alerts")"
    sleep 0.5
  done
  echo "  $a pending (fires after its for: 5m)"
done
start queue
wait_phase qd1 ACTION_PHASE_SUCCEEDED 30
wait_query 'sum(flyte_runs_outbox_pending{job="flyte-runs-service"}) == 0' 30 >/dev/null
echo "  queue-service back: qd1 SUCCEEDED, outbox empty again"

step "prometheus.sh: all passed in $(($(date +%s) - T_START)) s"
