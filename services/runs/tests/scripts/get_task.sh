#!/usr/bin/env bash
# get_task.sh NAME VERSION   (TaskService/GetTaskDetails)
source "$(dirname "$0")/_lib.sh"
rpc flyteidl2.task.TaskService/GetTaskDetails "{\"task_id\":$(task_id "${1:-my_task}" "${2:-1}")}"
