#!/usr/bin/env bash
# Any RPC: rpc.sh flyteidl2.workflow.RunService/ListRuns '{"org":"testorg"}' [extra buf curl flags]
source "$(dirname "$0")/_lib.sh"
data=${2:-}
[ -n "$data" ] || data='{}'
rpc "$1" "$data" "${@:3}"
