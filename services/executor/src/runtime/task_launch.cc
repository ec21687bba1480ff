#include "runtime/task_launch.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flyteidl2/core/execution.pb.h"
#include "flyteidl2/task/task_definition.pb.h"

namespace flyte::executor {

absl::StatusOr<TaskToRun> ParseTask(const ActionToRun& action) {
  TaskToRun task;
  if (!action.task_template.empty()) {
    if (!task.tmpl.ParseFromString(action.task_template)) {
      return absl::InvalidArgumentError("task template does not parse");
    }
  } else if (!action.task_spec.empty()) {
    flyteidl2::task::TaskSpec spec;
    if (!spec.ParseFromString(action.task_spec)) return absl::InvalidArgumentError("task spec does not parse");
    task.tmpl = spec.task_template();
  } else {
    return absl::InvalidArgumentError("the action carries no task");
  }
  if (task.tmpl.has_container()) {
    for (const std::string& c : task.tmpl.container().command()) task.command.push_back(c);
    for (const std::string& a : task.tmpl.container().args()) task.args.push_back(a);
    for (const auto& kv : task.tmpl.container().env()) task.container_env.emplace_back(kv.key(), kv.value());
  }
  task.max_retries = action.max_retries.value_or(static_cast<int>(task.tmpl.metadata().retries().retries()));
  if (action.timeout.has_value()) {
    task.timeout = *action.timeout;
  } else {
    const auto& d = task.tmpl.metadata().timeout();
    task.timeout = std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1'000'000);
  }
  return task;
}

std::string Rfc3339(common::TimePoint t) { return common::FormatUtcMicros(t, "+00:00"); }

TemplateVars AttemptTemplateVars(const ActionToRun& action, const AttemptPaths& p, int attempt,
                                 const std::string& default_org) {
  std::string input_prefix = action.input_uri;
  std::string input_file;
  if (absl::EndsWith(input_prefix, ".pb")) {
    input_file = input_prefix;
    input_prefix = input_prefix.substr(0, input_prefix.rfind('/'));
  } else if (!input_prefix.empty()) {
    while (absl::EndsWith(input_prefix, "/")) input_prefix.pop_back();
    input_file = input_prefix + "/inputs.pb";
  }
  TemplateVars vars;
  vars.Set("input", input_file)
      .Set("inputPrefix", input_prefix)
      .Set("outputPrefix", ToFileUri(p.output_dir))
      .Set("rawOutputDataPrefix", ToFileUri(p.raw_output_dir))
      .Set("checkpointOutputPrefix", ToFileUri(p.checkpoint_dir))
      .Set("prevCheckpointPrefix", p.prev_checkpoint_dir.empty() ? "" : ToFileUri(p.prev_checkpoint_dir))
      .Set("runName", action.key.run_name)
      .Set("actionName", action.key.action_name)
      .Set("runStartTime", Rfc3339(action.run_start_time))
      .Set("perRetryUniqueKey", absl::StrCat(action.key.run_name, "-", action.key.action_name, "-", attempt))
      .Set("taskRetryAttempt", absl::StrCat(attempt - 1))
      .Set("runBase", ToFileUri(p.run_dir))
      .Set("project", action.key.project)
      .Set("domain", action.key.domain)
      .Set("org", action.key.org.empty() ? default_org : action.key.org);
  return vars;
}

std::optional<ActionError> ReadErrorDocument(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  flyteidl2::core::ErrorDocument doc;
  if (!doc.ParseFromIstream(&in)) {
    return ActionError{"BadErrorDocument", absl::StrCat(path, " is not a flyteidl2.core.ErrorDocument"),
                       ErrorKind::kSystem, false};
  }
  const auto& ce = doc.error();
  ErrorKind kind = ce.origin() == flyteidl2::core::ExecutionError::SYSTEM ? ErrorKind::kSystem : ErrorKind::kUser;
  return ActionError{ce.code().empty() ? "UserError" : ce.code(), ce.message(), kind,
                     ce.kind() == flyteidl2::core::ContainerError::RECOVERABLE};
}

}  // namespace flyte::executor
