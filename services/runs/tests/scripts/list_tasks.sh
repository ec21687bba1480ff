#!/usr/bin/env bash
# Latest version of each task in the project, optionally only names containing TEXT: list_tasks.sh [TEXT]
source "$(dirname "$0")/_lib.sh"
filters=""
if [ -n "${1:-}" ]; then
  filters=",\"filters\":[{\"function\":\"CONTAINS\",\"field\":\"name\",\"values\":[\"$1\"]}]"
fi
rpc flyteidl2.task.TaskService/ListTasks \
  "{\"project_id\":{\"organization\":\"$ORG\",\"domain\":\"$DOMAIN\",\"name\":\"$PROJECT\"},\"request\":{\"limit\":50$filters}}"
