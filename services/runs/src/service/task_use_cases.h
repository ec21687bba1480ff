#pragma once
// Use cases of flyteidl2.task.TaskService on domain types. Thread-safe; blocks on the database.
// Errors: kNotFound (no such task version), kUnavailable, kInternal.
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "domain/list_query.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"

namespace flyte::runs {

class TaskUseCases {
 public:
  TaskUseCases(Store& store, common::Clock& clock) : store_(store), clock_(clock) {}

  // Creates the version; deploying an existing version again replaces its spec (created_at is kept).
  absl::Status DeployTask(Task task);
  absl::StatusOr<Task> GetTaskDetails(const TaskKey& key);
  // Latest version of each task name in the query's scope.
  absl::StatusOr<Page<Task>> ListTasks(const ListQuery& query);
  // Versions of one task name (key.version ignored), newest first.
  absl::StatusOr<Page<Task>> ListVersions(const TaskKey& name, const ListQuery& query);

 private:
  Store& store_;
  common::Clock& clock_;
};

}  // namespace flyte::runs
