#pragma once
// Plain types the executor runtime consumes and produces. No gRPC or proto types: the queue client turns a leased
// action into an ActionToRun, and the state reporter turns each ActionTransition into StateService/ActionsService
// calls; both adapters live outside the runtime.
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flyte/common/clock.h"

namespace flyte::executor {

// Numbers are flyteidl2.common.ActionPhase (checked by a static_assert in action.cc).
enum class Phase : int {
  kUnspecified = 0,
  kQueued = 1,
  kWaitingForResources = 2,
  kInitializing = 3,
  kRunning = 4,
  kSucceeded = 5,
  kFailed = 6,
  kAborted = 7,
  kTimedOut = 8,
  kPaused = 9,
  kRecovered = 10,
};

const char* PhaseName(Phase phase);  // "SUCCEEDED", ...
bool IsTerminal(Phase phase);        // SUCCEEDED, FAILED, ABORTED, TIMED_OUT, RECOVERED

struct ActionKey {
  std::string org;
  std::string project;
  std::string domain;
  std::string run_name;
  std::string action_name;

  std::string ToString() const;  // "org/project/domain/run/action"
  friend bool operator==(const ActionKey&, const ActionKey&) = default;
  friend auto operator<=>(const ActionKey&, const ActionKey&) = default;
};

// A secret the task declares, with the value the executor resolved for it (runtime/task_secrets.h).
struct TaskSecret {
  std::string name;     // the secret's key
  std::string env_var;  // "" = mounted as a file
  std::string value;
};

// One action as the queue hands it out. Either task_template or task_spec must be set.
struct ActionToRun {
  ActionKey key;
  std::string parent_action_name;  // empty for the root action a0
  std::string task_template;       // serialized flyteidl2.core.TaskTemplate; wins when both are set
  std::string task_spec;           // serialized flyteidl2.task.TaskSpec (its task_template is used)
  // Where inputs.pb is: either the file itself (ends with ".pb") or its prefix (".../inputs.pb" is appended).
  std::string input_uri;
  // file:// base of the run (_U_RUN_BASE). Empty or non-file: <data_root>/<org>/<project>/<domain>/<run>.
  std::string run_output_base;
  std::vector<std::pair<std::string, std::string>> envs;  // run spec envs; override everything else
  int attempt = 1;                                          // first attempt number to run (>= 1)
  std::optional<int> max_retries;                           // overrides TaskTemplate.metadata.retries.retries
  std::optional<std::chrono::milliseconds> timeout;         // overrides TaskTemplate.metadata.timeout (0 = none)
  common::TimePoint run_start_time{};                       // {{.runStartTime}}; epoch when unknown
  // Task output cache (used only when the task template is discoverable):
  std::string cache_key;         // TaskAction.cache_key as the SDK computed it ("" = the executor derives one)
  bool overwrite_cache = false;  // RunSpec.overwrite_cache / cache_config.overwrite_cache: run and replace
  bool cache_per_project_domain = false;  // cache_config.cache_lookup_scope PROJECT_DOMAIN (default: org-wide)
  // The task's declared secrets with their values, filled in by the executor before the runtime starts it; or why
  // they could not be (the attempt then fails with that error without starting a process).
  std::vector<TaskSecret> secrets;
  std::optional<std::pair<std::string, std::string>> secrets_error;  // {code, message}
  bool secrets_error_is_user = true;                                  // a missing secret; false: runs-service down
};

// Numbers are flyteidl2.core.CatalogCacheStatus: what the task output cache did for an attempt.
enum class CacheStatus : int {
  kDisabled = 0,       // the task is not cached
  kMiss = 1,           // looked up, not there: the task runs
  kHit = 2,            // the outputs came from the cache; nothing ran
  kPopulated = 3,      // ran after a miss (or to overwrite) and its outputs were recorded
  kLookupFailure = 4,  // the cache could not be asked: the task runs
  kPutFailure = 5,     // ran, but its outputs could not be recorded
  kSkipped = 6,        // cached, but the cache does not apply (Kubernetes without a shared data volume): it runs
};

enum class ErrorKind { kUser, kSystem };

struct ActionError {
  std::string code;     // "NonZeroExit", "Signaled", "Timeout", "Aborted", "InvalidTask", or error.pb's code
  std::string message;  // human readable; for exits it carries the tail of stderr
  ErrorKind kind = ErrorKind::kUser;
  bool retryable = false;
};

// One phase change of one attempt, reported in order per action.
struct ActionTransition {
  ActionKey key;
  int attempt = 1;
  Phase phase = Phase::kUnspecified;
  common::TimePoint time{};
  std::string output_uri;             // SUCCEEDED: the attempt's output prefix (file://...)
  std::optional<ActionError> error;   // FAILED / TIMED_OUT / ABORTED
  std::string cluster_event;          // what happened, e.g. "process started pid 123"
  std::string stdout_uri;             // file:// URIs of this attempt's logs (set from INITIALIZING on)
  std::string stderr_uri;
  // Kubernetes runtime: "k8s://<namespace>/pods/<pod>/log", the attempt's Pod log (set from INITIALIZING on), so
  // runs-service reports the attempt's logs as available (the SDK waits for that before tailing).
  std::string pod_log_uri;
  int pid = 0;                        // RUNNING: the process id, which is also its process group id
  bool final = false;                 // no further transitions follow for this action
  bool retry_follows = false;         // FAILED / TIMED_OUT: another attempt of this action will follow
  CacheStatus cache_status = CacheStatus::kDisabled;
};

}  // namespace flyte::executor
