#!/usr/bin/env bash
# Streams run changes of the project until interrupted: watch_runs.sh   (RunService/WatchRuns)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/WatchRuns \
  "{\"project_id\":{\"organization\":\"$ORG\",\"domain\":\"$DOMAIN\",\"name\":\"$PROJECT\"}}"
