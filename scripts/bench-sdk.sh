#!/usr/bin/env bash
# SDK end-to-end timings, warm Python pool on vs off (scripts/lib/bench_sdk.py), written to docs/benchmarks-sdk.md.
# Needs a build with flyte-manager ($FLYTE_BUILD_DIR, default build/) and the SDK venv (scripts/sdk-venv.sh).
#   MODES=on,off  TRIVIAL_RUNS=7  GATHER50_RUNS=3  GATHER500_RUNS=1 (GATHER500_RUNS_OFF: the same)  RSS_ATTEMPTS=1000
#   OUT=docs/benchmarks-sdk.md
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=$(bash scripts/sdk-venv.sh)
export FLYTE_BUILD_DIR="${FLYTE_BUILD_DIR:-$PWD/build}" FLYTE_DISABLE_SENTRY=true
OUT="${OUT:-docs/benchmarks-sdk.md}"
json="${FLYTE_BUILD_DIR}/bench-sdk.json"
"$VENV/bin/python" scripts/lib/bench_sdk.py > "$json"
BENCH_COMMAND="${BENCH_COMMAND:-scripts/bench-sdk.sh}" "$VENV/bin/python" scripts/lib/bench_sdk.py --render "$json" > "$OUT"
echo "bench-sdk: wrote $OUT (raw figures: $json)" >&2
