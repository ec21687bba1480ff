#!/usr/bin/env bash
# Installs everything the build, the stack and the tests need. Idempotent: re-running does only what is missing.
#   apt packages (C++ libraries, PostgreSQL, sqlite3, docker-compose, podman and debootstrap for the image test,
#   prometheus for promtool), a Python venv in
#   .venv with the pinned flyteidl2 (and flyte SDK), and from npm in tools/node_modules buf and, for the Grafana
#   dashboard's schema check, @grafana/schema and typescript.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/versions.env

APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config git curl python3 python3-venv
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libsqlitecpp-dev libsqlite3-dev sqlite3 libcpprest-dev nlohmann-json3-dev libyaml-cpp-dev
  libfmt-dev catch2 prometheus-cpp-dev libboost-dev libboost-system-dev zlib1g-dev
  postgresql postgresql-contrib docker-compose clang libclang-rt-14-dev nodejs npm jq python3-yaml prometheus
  podman runc netavark aardvark-dns debootstrap)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # Node/npm may come from elsewhere on some machines; only ask apt for them when the commands are absent.
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs) command -v node >/dev/null || filtered+=("$p");;
                 npm) command -v npm >/dev/null || filtered+=("$p");;
                 *) filtered+=("$p");; esac
  done
  if ((${#filtered[@]})); then
    echo "bootstrap: installing apt packages: ${filtered[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${filtered[@]}"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('flyteidl2') == '$FLYTEIDL2_VERSION' else 1)" 2>/dev/null; then
  echo "bootstrap: installing flyteidl2==$FLYTEIDL2_VERSION into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q "flyteidl2==$FLYTEIDL2_VERSION"
fi

if [ ! -x tools/node_modules/.bin/buf ]; then
  echo "bootstrap: installing @bufbuild/buf@$BUF_VERSION"
  mkdir -p tools
  (cd tools && npm install --silent --no-audit --no-fund "@bufbuild/buf@$BUF_VERSION" >/dev/null)
fi
# The dashboard check's dev dependencies, exactly the pinned versions (reinstalled when a pin changes).
npm_version() { jq -r .version "tools/node_modules/$1/package.json" 2>/dev/null || true; }
if [ "$(npm_version @grafana/schema)" != "$GRAFANA_SCHEMA_VERSION" ] || [ "$(npm_version typescript)" != "$TYPESCRIPT_VERSION" ]; then
  echo "bootstrap: installing @grafana/schema@$GRAFANA_SCHEMA_VERSION and typescript@$TYPESCRIPT_VERSION"
  (cd tools && npm install --silent --no-audit --no-fund --save-dev --save-exact \
    "@grafana/schema@$GRAFANA_SCHEMA_VERSION" "typescript@$TYPESCRIPT_VERSION" >/dev/null)
fi
