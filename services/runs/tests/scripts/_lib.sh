# Sourced by the scripts here. Talks to a running runs-service with `buf curl`.
#   ENDPOINT        default http://localhost:8090
#   BUF_CURL_FLAGS  extra flags, e.g. "--protocol grpc --http2-prior-knowledge" (default: Connect, HTTP/1.1)
#   ORG PROJECT DOMAIN   default testorg / testproject / development
#   FLYTE_BUILD_DIR (for the schema, build/proto/all.binpb), BUF (the buf binary)
set -euo pipefail
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${ROOT:-$(cd "$_here/../../../.." && pwd)}
ENDPOINT=${ENDPOINT:-http://localhost:8090}
BUF=${BUF:-$ROOT/tools/node_modules/.bin/buf}
SCHEMA=${SCHEMA:-${FLYTE_BUILD_DIR:-$ROOT/build}/proto/all.binpb}
BUF_CURL_FLAGS=${BUF_CURL_FLAGS:-}
ORG=${ORG:-testorg}
PROJECT=${PROJECT:-testproject}
DOMAIN=${DOMAIN:-development}

# rpc SERVICE/METHOD JSON [extra buf curl flags...]: prints the response (JSON); non-zero exit on an RPC error.
rpc() {
  local method=$1 data=$2
  shift 2
  # shellcheck disable=SC2086
  "$BUF" curl --schema "$SCHEMA" $BUF_CURL_FLAGS "$@" -d "$data" "$ENDPOINT/$method"
}

run_id() { printf '{"org":"%s","project":"%s","domain":"%s","name":"%s"}' "$ORG" "$PROJECT" "$DOMAIN" "$1"; }
task_id() {
  printf '{"org":"%s","project":"%s","domain":"%s","name":"%s","version":"%s"}' "$ORG" "$PROJECT" "$DOMAIN" "$1" "$2"
}
