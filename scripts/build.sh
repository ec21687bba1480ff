#!/usr/bin/env bash
# Configures and builds everything into build/ (binaries in build/bin, tests in build/tests).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache (when installed) keyed on paths relative to the checkout, so clones and build dirs share one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
# ccache hashes the locale variables: one fixed locale (the Dockerfile's build stage has the same) lets the image
# build reuse what this build compiled, whatever the caller's locale.
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_MESSAGES
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "$@"
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"
