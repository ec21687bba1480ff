#pragma once
// Use cases of flyteidl2.task.TaskService on domain types. Thread-safe; blocks on the database.
// Errors: kNotFound (no such task version), kFailedPrecondition (the spec's code bundle is missing from the data
// tree, see CheckCodeBundle), kUnavailable, kInternal.
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "domain/list_query.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"
#include "service/project_use_cases.h"
#include "service/storage_local.h"

namespace flyte::runs {

class TaskUseCases {
 public:
  // `storage_prefix`: the run-data tree code bundles are checked in ("" = none checked). `projects`: when set,
  // DeployTask in an unknown project or domain is kNotFound naming it.
  TaskUseCases(Store& store, common::Clock& clock, std::string storage_prefix = "",
               ProjectUseCases* projects = nullptr)
      : store_(store), clock_(clock), blobs_(std::move(storage_prefix)), projects_(projects) {}

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
  LocalBlobStore blobs_;
  ProjectUseCases* projects_;
};

}  // namespace flyte::runs
