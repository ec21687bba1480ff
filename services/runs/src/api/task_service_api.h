#pragma once
// flyteidl2.task.TaskService adapter (DeployTask, GetTaskDetails, ListTasks, ListVersions). Thread-safe.
#include "flyte/rpc/router.h"
#include "service/task_use_cases.h"

namespace flyte::runs::api {

class TaskServiceApi {
 public:
  explicit TaskServiceApi(TaskUseCases& tasks) : tasks_(tasks) {}
  void Register(rpc::Router& router);

 private:
  TaskUseCases& tasks_;
};

}  // namespace flyte::runs::api
