#pragma once
// What every runtime (local processes, Kubernetes Pods) takes from an action before it starts an attempt, so both
// run exactly the same command with the same template variables and read task errors the same way:
//   ParseTask            the task template, its container command/args/env, retries and timeout
//   AttemptTemplateVars  the {{.var}} values of one attempt (docs/executor.md, "Template variables")
//   ReadErrorDocument    error.pb, the SDK's way of reporting a task error (even with exit code 0)
// Pure functions (ReadErrorDocument reads one file); thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flyteidl2/core/tasks.pb.h"
#include "runtime/action.h"
#include "runtime/attempt_layout.h"
#include "runtime/task_environment.h"
#include "runtime/template_substitution.h"

namespace flyte::executor {

struct TaskToRun {
  flyteidl2::core::TaskTemplate tmpl;
  std::vector<std::string> command;  // container command, unsubstituted (empty for a Pod-template task)
  std::vector<std::string> args;     // container args, unsubstituted
  EnvList container_env;
  int max_retries = 0;
  std::chrono::milliseconds timeout{0};  // 0 = none
};

// kInvalidArgument with a message for the user (reported as InvalidTask) when the action carries no task or its
// task does not parse. Whether the task has something this runtime can run is the runtime's check.
absl::StatusOr<TaskToRun> ParseTask(const ActionToRun& action);

// The template variables of `attempt` laid out at `paths`. `default_org` stands in for an empty org.
TemplateVars AttemptTemplateVars(const ActionToRun& action, const AttemptPaths& paths, int attempt,
                                 const std::string& default_org);

// RFC 3339 in UTC with exactly six fractional digits (what Python's datetime.fromisoformat reads everywhere).
std::string Rfc3339(common::TimePoint t);

// The error error.pb at `path` describes (ContainerError code/message; RECOVERABLE -> retryable; origin SYSTEM ->
// system error), a BadErrorDocument error when it does not parse, nullopt when there is no such file.
std::optional<ActionError> ReadErrorDocument(const std::string& path);

}  // namespace flyte::executor
