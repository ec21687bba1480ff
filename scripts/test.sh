#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, then runs
#   1. the C++ suites (ctest: unit, SQLite, PostgreSQL on a throwaway server, API over both transports, contract),
#   2. the end-to-end scripts against the real binaries (tests/e2e/*.sh),
#   3. the official Python SDK against the real stack (tests/sdk/run.sh),
#   4. the Connect codec fuzzer for a bounded time (FUZZ_SECONDS, default 60).
# Stops at the first failing stage and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
export FLYTE_BUILD_DIR=$PWD/build

echo "=== ctest"
(cd build && ctest --output-on-failure -j "${JOBS:-2}" --timeout 600)

for t in tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  echo "=== e2e: $t"
  bash "$t"
done

echo "=== Python SDK end to end"
bash tests/sdk/run.sh

echo "=== fuzz: Connect codec (${FUZZ_SECONDS:-60}s)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash tests/fuzz/run_connect_fuzz.sh
echo "all test stages passed"
