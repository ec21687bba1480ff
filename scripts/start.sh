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
../build/bin/runs-service &
pids+=($!)
echo "runs-service: http://localhost:8090 (gRPC and Connect), database ./data/runs.db"
wait -n
