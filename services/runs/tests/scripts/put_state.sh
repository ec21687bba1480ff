#!/usr/bin/env bash
# Reports a phase for an action, as an executor does: put_state.sh RUN_NAME [ACTION=a0] [PHASE=ACTION_PHASE_RUNNING]
# (StateService/Put; `state` is the JSON of a flyteidl2.workflow.ActionEvent)
source "$(dirname "$0")/_lib.sh"
state="{\\\"attempt\\\":1,\\\"phase\\\":\\\"${3:-ACTION_PHASE_RUNNING}\\\"}"
rpc flyteidl2.workflow.StateService/Put \
  "{\"action_id\":{\"run\":$(run_id "${1:-run1}"),\"name\":\"${2:-a0}\"},\"state\":\"$state\"}"
