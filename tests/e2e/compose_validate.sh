#!/usr/bin/env bash
# Checks the deployment files without a Docker engine:
#   1. docker-compose.yaml parses (`docker-compose config`, Debian's v1) and has the shape docs/deploy.md promises:
#      postgres with a pg_isready health check; runs-service, queue-service, executor on the one image, each with
#      a /healthz health check using a tool the image installs, depends_on with condition: service_healthy, and
#      its config mounted from deploy/config/compose/ and named by its command.
#   2. every service config under deploy/config/ passes its binary's --validate-config (the file name picks the
#      binary), and a broken copy is rejected, so the check itself can fail.
#   3. the Dockerfile: build packages are ones scripts/bootstrap.sh installs; the runtime stage installs the Debian
#      package of every shared library the four binaries link (ldd + dpkg here) and the health-check tool.
# FLYTE_BUILD_DIR = build dir (default ./build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FLYTE_BUILD_DIR:-$ROOT/build}
cd "$ROOT"
WORK=$(mktemp -d /tmp/flyte-compose-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
BINARIES=(runs-service queue-service executor flyte-manager)
for b in "${BINARIES[@]}"; do [ -x "$BUILD/bin/$b" ] || fail "$BUILD/bin/$b not built"; done

step "docker-compose config"
command -v docker-compose >/dev/null || fail "docker-compose not installed (scripts/bootstrap.sh installs it)"
FLYTE_DB_PASSWORD=validate docker-compose -f docker-compose.yaml config >"$WORK/compose.yaml" 2>"$WORK/compose.err" \
  || fail "docker-compose config: $(cat "$WORK/compose.err")"
# The runtime packages the Dockerfile installs, for the health-check tool check below.
python3 - "$ROOT/Dockerfile" >"$WORK/runtime-packages" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
stage = text.split(" AS runtime", 1)[1]
for m in re.finditer(r"apt-get install ([^&\n]*)", stage):
    for w in m.group(1).split():
        if not w.startswith("-"):
            print(w)
PY
python3 - "$WORK/compose.yaml" "$WORK/runtime-packages" <<'PY' || fail "docker-compose.yaml shape"
import os, sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
runtime = set(open(sys.argv[2]).read().split())
services = cfg["services"]
problems = []
want = {"runs-service": 8090, "queue-service": 8089, "executor": 8081}
if set(services) != {"postgres", *want}:
    problems.append(f"services: {sorted(services)}")
pg = services.get("postgres", {})
if not str(pg.get("image", "")).startswith("postgres:15"):
    problems.append("postgres: image must be postgres:15")
if "pg_isready" not in " ".join(pg.get("healthcheck", {}).get("test", [])):
    problems.append("postgres: healthcheck must use pg_isready")
images = set()
for name, port in want.items():
    s = services.get(name, {})
    images.add(s.get("image"))
    test = s.get("healthcheck", {}).get("test", [])
    joined = " ".join(test)
    if f"localhost:{port}/healthz" not in joined:
        problems.append(f"{name}: healthcheck must GET /healthz on {port}: {test}")
    tool = test[1] if len(test) > 1 and test[0] == "CMD" else None
    if tool not in runtime:
        problems.append(f"{name}: healthcheck tool {tool!r} is not installed in the runtime image")
    deps = s.get("depends_on", {})
    if not deps or any(d.get("condition") != "service_healthy" for d in deps.values()):
        problems.append(f"{name}: depends_on must all be condition: service_healthy: {deps}")
    cmd = s.get("command", [])
    if not cmd or cmd[0] != name or "--config" not in cmd:
        problems.append(f"{name}: command must run {name} --config FILE: {cmd}")
        continue
    target = cmd[cmd.index("--config") + 1]
    mounts = {}
    for v in s.get("volumes", []):  # v1 prints short syntax "source:target:mode"
        if isinstance(v, dict):
            mounts[v["target"]] = v.get("source", "")
        else:
            parts = v.split(":")
            mounts[parts[1]] = parts[0]
    src = mounts.get(target)
    if not src or "/deploy/config/compose/" not in src or not os.path.isfile(src):
        problems.append(f"{name}: {target} must be mounted from an existing deploy/config/compose file: {src}")
    env = s.get("environment", {})
    if name != "executor" and "FLYTE_DB_PASSWORD" not in env:
        problems.append(f"{name}: FLYTE_DB_PASSWORD must be passed in the environment")
# The executor resolves task secrets with the token runs-service expects (runs.internalToken).
tokens = {n: services.get(n, {}).get("environment", {}).get("FLYTE_INTERNAL_TOKEN") for n in ("runs-service", "executor")}
if None in tokens.values() or len(set(tokens.values())) != 1:
    problems.append(f"runs-service and executor must get the same FLYTE_INTERNAL_TOKEN: {tokens}")
if len(images) != 1:
    problems.append(f"the three services must share one image: {images}")
for p in problems:
    print("docker-compose.yaml:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "docker-compose.yaml OK"

step "every config under deploy/config passes --validate-config"
binary_for() {
  case "$(basename "$1")" in
    runs-service*) echo runs-service ;;
    queue-service*) echo queue-service ;;
    executor*) echo executor ;;
    flyte-manager*) echo flyte-manager ;;
    *) echo "" ;;
  esac
}
n=0
while IFS= read -r f; do
  bin=$(binary_for "$f")
  [ -n "$bin" ] || fail "$f: no binary for this file name (runs-service*, queue-service*, executor*, flyte-manager*)"
  FLYTE_DB_PASSWORD=validate FLYTE_INTERNAL_TOKEN=validate-internal-token "$BUILD/bin/$bin" --config "$f" \
    --validate-config >"$WORK/out" 2>&1 \
    || fail "$bin rejects $f: $(cat "$WORK/out")"
  echo "$bin: $f OK"
  # The same file with one misspelt key must be rejected (exit 2), so this check can fail.
  { cat "$f"; printf '\nloger:\n  level: 4\n'; } >"$WORK/broken.yaml"
  rc=0
  FLYTE_DB_PASSWORD=validate FLYTE_INTERNAL_TOKEN=validate-internal-token "$BUILD/bin/$bin" \
    --config "$WORK/broken.yaml" --validate-config >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "$bin accepted a broken copy of $f (exit $rc)"
  n=$((n + 1))
done < <(find deploy/config -name '*.yaml' | sort)
[ "$n" -ge 7 ] || fail "expected at least 7 configs under deploy/config, found $n"
# A postgres config whose password variable is unset is a config error, not a start-time surprise.
rc=0
env -u FLYTE_DB_PASSWORD "$BUILD/bin/runs-service" --config deploy/config/compose/runs-service.yaml \
  --validate-config >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "runs-service accepted deploy/config/compose/runs-service.yaml without FLYTE_DB_PASSWORD"

step "Dockerfile packages"
python3 - "$ROOT/Dockerfile" "$ROOT/scripts/bootstrap.sh" >"$WORK/build-packages" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
stage = text.split(" AS runtime", 1)[0]
for m in re.finditer(r"apt-get install ([^&\n]*)", stage):
    for w in m.group(1).split():
        if not w.startswith("-"):
            print(w)
PY
bootstrap=$(sed -n '/^APT_PACKAGES=(/,/)/p' scripts/bootstrap.sh | tr -d '()' | sed 's/APT_PACKAGES=//')
while read -r p; do
  case "$p" in ca-certificates) continue ;; esac  # for pip over https with --no-install-recommends
  grep -qw -- "$p" <<<"$bootstrap" || fail "Dockerfile build stage installs $p, which scripts/bootstrap.sh does not"
done <"$WORK/build-packages"
for b in "${BINARIES[@]}"; do
  ldd "$BUILD/bin/$b" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n1 | cut -d: -f1) || true
  [ -n "$pkg" ] || continue
  # Only libraries the binaries name directly must be listed; the rest arrive as their dependencies.
  echo "$pkg $(basename "$lib")"
done >"$WORK/lib-packages"
needed=$(for b in "${BINARIES[@]}"; do objdump -p "$BUILD/bin/$b" | awk '/NEEDED/{print $2}'; done | sort -u)
while read -r pkg lib; do
  grep -qx -- "$lib" <<<"$needed" || continue
  case "$pkg" in libc6|libstdc++6|libgcc-s1) continue ;; esac  # in every Debian image
  grep -qx -- "$pkg" "$WORK/runtime-packages" || fail "runtime stage lacks $pkg (for $lib)"
done <"$WORK/lib-packages"
echo "Dockerfile packages OK"
echo "compose_validate.sh: OK"
