#!/usr/bin/env bash
# Builds the Connect codec libFuzzer target with clang (ASan + libFuzzer) in build-fuzz and runs it for a bounded
# time. Exits non-zero if the fuzzer finds a crash, leak or sanitizer error.
#   FUZZ_SECONDS=60 (default)  JOBS=2  BUILD_DIR=build-fuzz
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-2}"

if ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  echo "libclang-rt-14-dev is missing (libFuzzer runtime): apt-get install -y libclang-rt-14-dev" >&2
  exit 2
fi

export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFLYTE_BUILD_FUZZERS=ON -DFLYTE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target connect_codec_fuzz

CORPUS="$BUILD_DIR/fuzz-corpus/connect_codec"
ARTIFACTS="$BUILD_DIR/fuzz-artifacts/"
mkdir -p "$CORPUS" "$ARTIFACTS"
# A few seeds: an envelope, a gzip header, a content type, JSON requests.
printf '\x00\x00\x00\x00\x02{}' >"$CORPUS/seed-envelope"
printf '\x01\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$CORPUS/seed-gzip"
printf '\x02application/connect+proto; charset=utf-8' >"$CORPUS/seed-ctype"
printf '\x13{"runId":{"name":"r1","project":"p"}}' >"$CORPUS/seed-json"
printf '\x15\x00\x00\x00\x00\x0d{"org":"x"}  ' >"$CORPUS/seed-stream-json"
printf '\x08connect=v1&encoding=json&message=%%7B%%22org%%22%%3A%%22x%%22%%7D' >"$CORPUS/seed-get-json"
printf '\x08connect=v1&encoding=proto&base64=1&compression=gzip&message=H4sIAAAAAAAAA-MCAJMG1zIDAAAA' >"$CORPUS/seed-get-b64"

"$BUILD_DIR/bin/connect_codec_fuzz" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$ARTIFACTS" "$CORPUS"
echo "connect_codec_fuzz: no crash in ${FUZZ_SECONDS}s"
