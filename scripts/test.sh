#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, runs the C++ suites (unit, SQLite,
# PostgreSQL on a throwaway server, API over both transports), then the end-to-end scripts against the real binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
export FLYTE_BUILD_DIR=$PWD/build
(cd build && ctest --output-on-failure -j "${JOBS:-2}" --timeout 600)
for t in tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  echo "=== e2e: $t"
  bash "$t"
done
