#!/usr/bin/env bash
# Creates the scripts' project ($PROJECT in $ORG) unless it exists: create_project.sh   (ProjectService/CreateProject)
# Runs, tasks and uploads in a project the service does not know are NOT_FOUND.
source "$(dirname "$0")/_lib.sh"
if out=$(rpc flyteidl2.project.ProjectService/CreateProject \
    "{\"project\":{\"id\":\"$PROJECT\",\"name\":\"$PROJECT\",\"org\":\"$ORG\"}}" 2>&1); then
  echo "project $PROJECT created"
elif grep -qi "already_exists\|already exists" <<<"$out"; then
  echo "project $PROJECT exists"
else
  echo "$out" >&2
  exit 1
fi
