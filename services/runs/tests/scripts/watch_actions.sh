#!/usr/bin/env bash
# Streams the actions of a run until interrupted: watch_actions.sh RUN_NAME   (RunService/WatchActions)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/WatchActions "{\"run_id\":$(run_id "${1:-run1}")}"
