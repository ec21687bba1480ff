#!/usr/bin/env bash
# Runs of the project, newest first: list_runs.sh [LIMIT=50]   (RunService/ListRuns)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/ListRuns \
  "{\"project_id\":{\"organization\":\"$ORG\",\"domain\":\"$DOMAIN\",\"name\":\"$PROJECT\"},\"request\":{\"limit\":${1:-50}}}"
