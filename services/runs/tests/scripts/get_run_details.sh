#!/usr/bin/env bash
# get_run_details.sh RUN_NAME   (RunService/GetRunDetails)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/GetRunDetails "{\"run_id\":$(run_id "${1:-run1}")}"
