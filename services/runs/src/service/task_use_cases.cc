#include "service/task_use_cases.h"

#include "service/code_bundle.h"

namespace flyte::runs {

absl::Status TaskUseCases::DeployTask(Task task) {
  if (projects_ != nullptr) {
    if (absl::Status s = projects_->CheckScope(task.key.project, task.key.domain); !s.ok()) return s;
  }
  if (absl::Status s = CheckCodeBundle(blobs_, task.code_bundle_uri); !s.ok()) return s;
  task.created_at = clock_.Now();
  task.updated_at = task.created_at;
  return store_.Tasks().Deploy(task);
}

absl::StatusOr<Task> TaskUseCases::GetTaskDetails(const TaskKey& key) {
  absl::StatusOr<Task> t = store_.Tasks().Get(key);
  if (t.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("task " + key.project + "/" + key.domain + "/" + key.name + " version " +
                               key.version + " not found");
  }
  return t;
}

absl::StatusOr<Page<Task>> TaskUseCases::ListTasks(const ListQuery& query) { return store_.Tasks().ListLatest(query); }

absl::StatusOr<Page<Task>> TaskUseCases::ListVersions(const TaskKey& name, const ListQuery& query) {
  TaskKey name_only = name;
  name_only.version.clear();
  return store_.Tasks().ListVersions(name_only, query);
}

}  // namespace flyte::runs
