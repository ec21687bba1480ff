#!/usr/bin/env bash
# Creates (idempotently) the Python venv the SDK end-to-end tests use, with the pinned official `flyte` SDK, and
# prints its path. Re-running only installs what is missing or at the wrong version.
#   VENV_DIR  where to put it (default: <repo>/.venv-sdk)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/versions.env
VENV_DIR="${VENV_DIR:-$PWD/.venv-sdk}"

if [ ! -x "$VENV_DIR/bin/python" ]; then
  python3 -m venv "$VENV_DIR" >&2
fi
have_version() {
  "$VENV_DIR/bin/python" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('$1') == '$2' else 1)" \
    2>/dev/null
}
if ! have_version flyte "$FLYTE_SDK_VERSION" || ! have_version flyteidl2 "$FLYTEIDL2_VERSION" \
    || ! have_version pytest "$("$VENV_DIR/bin/python" -c 'import importlib.metadata as m; print(m.version("pytest"))' 2>/dev/null || echo none)"; then
  echo "sdk-venv: installing flyte==$FLYTE_SDK_VERSION (flyteidl2==$FLYTEIDL2_VERSION) and pytest into $VENV_DIR" >&2
  "$VENV_DIR/bin/pip" install -q --upgrade pip >&2
  "$VENV_DIR/bin/pip" install -q "flyte==$FLYTE_SDK_VERSION" "flyteidl2==$FLYTEIDL2_VERSION" pytest >&2
fi
echo "$VENV_DIR"
