#!/usr/bin/env bash
# Starts a run of a deployed task: create_run.sh [RUN_NAME=run1] [TASK=my_task] [VERSION=1]
# (RunService/CreateRun; the same request again returns the run, another one with a taken RUN_NAME answers
# ALREADY_EXISTS)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.workflow.RunService/CreateRun \
  "{\"run_id\":$(run_id "${1:-run1}"),\"task_id\":$(task_id "${2:-my_task}" "${3:-1}")}"
