#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, then runs
#   1. the C++ suites (ctest: unit, SQLite, PostgreSQL on a throwaway server, API over both transports, contract),
#      then the ones that need a real Kubernetes API server (label `kubernetes`) against the test control plane
#      of scripts/k8s-testenv.sh (built once from the Go module proxy into a per-version cache),
#   2. the end-to-end scripts against the real binaries (tests/e2e/*.sh, tests/e2e/kubernetes.sh and the Helm chart's
#      tests/e2e/helm.sh included),
#   3. the official Python SDK against the real stack (tests/sdk/run.sh),
#   4. the Connect codec fuzzer for a bounded time (FUZZ_SECONDS, default 60).
# Stops at the first failing stage and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
K8S_WITH_HELM=1 bash scripts/k8s-testenv.sh build   # + helm for tests/e2e/helm.sh (cached by version)
export FLYTE_BUILD_DIR=$PWD/build

echo "=== ctest"
(cd build && ctest --output-on-failure -j "${JOBS:-2}" --timeout 600 -LE '^kubernetes$')

echo "=== ctest against a real kube-apiserver (label kubernetes)"
K8S_CTEST_DIR=$(mktemp -d /tmp/flyte-k8s-ctest-XXXXXX)
k8s_ctest_down() { K8S_TESTENV_DIR=$K8S_CTEST_DIR bash scripts/k8s-testenv.sh down >/dev/null 2>&1; rm -rf "$K8S_CTEST_DIR"; }
trap k8s_ctest_down EXIT
FLYTE_TEST_KUBECONFIG=$(K8S_TESTENV_DIR=$K8S_CTEST_DIR bash scripts/k8s-testenv.sh up | tail -1)
(cd build && FLYTE_TEST_KUBECONFIG=$FLYTE_TEST_KUBECONFIG ctest --output-on-failure -j "${JOBS:-2}" --timeout 600 -L '^kubernetes$')
k8s_ctest_down
trap - EXIT

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
