#!/usr/bin/env bash
# Deploys a task: create_task.sh [NAME=my_task] [VERSION=1]   (TaskService/DeployTask)
source "$(dirname "$0")/_lib.sh"
name=${1:-my_task}
version=${2:-1}
id=$(task_id "$name" "$version")
rpc flyteidl2.task.TaskService/DeployTask \
  "{\"task_id\":$id,\"spec\":{\"task_template\":{\"id\":{\"resource_type\":\"TASK\",\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$name\",\"version\":\"$version\"},\"type\":\"python\"},\"short_name\":\"$name\",\"environment\":{\"name\":\"default\"}}}"
