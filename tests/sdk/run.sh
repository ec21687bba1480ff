#!/usr/bin/env bash
# Python SDK end-to-end tests (tests/sdk): installs the pinned SDK into .venv-sdk (scripts/sdk-venv.sh) and runs
# pytest against the real binaries in $FLYTE_BUILD_DIR (default build/). Exits non-zero on any failure; "no tests
# collected" (pytest exit 5) is a failure too, so a broken collection cannot pass silently.
set -uo pipefail
cd "$(dirname "$0")/../.."
VENV=$(bash scripts/sdk-venv.sh) || { echo "sdk e2e: could not prepare the SDK venv" >&2; exit 1; }
export FLYTE_BUILD_DIR="${FLYTE_BUILD_DIR:-$PWD/build}" FLYTE_DISABLE_SENTRY=true
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/sdk "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "sdk e2e: no tests were collected" >&2
  exit 1
fi
exit "$rc"
