#pragma once
// flyteidl2.task.TaskService adapter (DeployTask with its triggers, GetTaskDetails, ListTasks, ListVersions).
// Thread-safe.
#include "flyte/rpc/router.h"
#include "service/task_use_cases.h"
#include "service/trigger_use_cases.h"

namespace flyte::runs::api {

class TaskServiceApi {
 public:
  TaskServiceApi(TaskUseCases& tasks, TriggerUseCases& triggers) : tasks_(tasks), triggers_(triggers) {}
  void Register(rpc::Router& router);

 private:
  TaskUseCases& tasks_;
  TriggerUseCases& triggers_;
};

}  // namespace flyte::runs::api
