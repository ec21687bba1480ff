#!/usr/bin/env bash
# list_actions.sh RUN_NAME   (RunService/ListActions)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/ListActions "{\"run_id\":$(run_id "${1:-run1}"),\"request\":{\"limit\":50}}"
