#!/usr/bin/env bash
# abort_run.sh RUN_NAME [REASON]   (RunService/AbortRun)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/AbortRun "{\"run_id\":$(run_id "${1:-run1}"),\"reason\":\"${2:-aborted by script}\"}"
