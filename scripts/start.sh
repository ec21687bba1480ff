#!/usr/bin/env bash
# Starts the stack locally on the embedded defaults (SQLite in ./data, local executor):
# installs what is missing, builds, then runs the services in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
mkdir -p data
cd data
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM
# The three services on their defaults: queue-service (8089, ./data/queue.db), runs-service (8090, ./data/runs.db,
# forwards runs to localhost:8089), executor (health 8081, task files under ./data/data). Each retries while the
# others are still starting, so the order only saves a few retries.
../build/bin/queue-service &
pids+=($!)
../build/bin/runs-service &
pids+=($!)
../build/bin/executor &
pids+=($!)
echo "queue-service: localhost:8089, database ./data/queue.db"
echo "runs-service:  http://localhost:8090 (gRPC and Connect; also QueueService for tasks), database ./data/runs.db"
echo "executor:      health http://localhost:8081/healthz, files under ./data/data"
# Any service ending (or Ctrl-C) stops the others.
wait -n
