#pragma once
// Plain types for runs, actions, attempts and tasks. No gRPC, no SQL. Opaque specs are kept as the serialized
// flyteidl2 messages the client sent, so they come back byte-for-byte.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flyte/common/clock.h"
#include "domain/phase.h"

namespace flyte::runs {

using common::TimePoint;

struct RunKey {
  std::string org, project, domain, name;
  bool operator==(const RunKey&) const = default;
};

struct ActionKey {
  RunKey run;
  std::string name;  // root action of every run is "a0"
  bool operator==(const ActionKey&) const = default;
};

inline constexpr char kRootActionName[] = "a0";

// Numbering equals flyteidl2.workflow.ActionType.
enum class ActionType : int { kUnspecified = 0, kTask = 1, kTrace = 2, kCondition = 3 };

enum class ErrorKind : int { kUnspecified = 0, kUser = 1, kSystem = 2 };  // = flyteidl2.workflow.ErrorInfo.Kind
struct ErrorInfo {
  std::string message;
  ErrorKind kind = ErrorKind::kUnspecified;
  std::string code;
  bool operator==(const ErrorInfo&) const = default;
};

struct Action {
  ActionKey key;
  std::optional<std::string> parent;  // parent action name; nullopt for a run's root action
  ActionType type = ActionType::kTask;
  Phase phase = Phase::kQueued;
  std::string group;

  // Identity of the task, copied out of the spec for filtering and listing.
  std::string task_org, task_project, task_domain, task_name, task_version, task_type, short_name, environment;

  // Serialized flyteidl2 messages, stored verbatim ("" = absent).
  std::string task_spec;       // flyteidl2.task.TaskSpec
  std::string trace_spec;      // flyteidl2.task.TraceSpec
  std::string condition_spec;  // flyteidl2.workflow.ConditionAction
  std::string run_spec;        // flyteidl2.task.RunSpec (root actions)
  std::string metadata;        // flyteidl2.workflow.ActionMetadata extras (executed_by, source, trigger, ...)

  std::string input_uri;
  std::string run_output_base;
  std::string output_uri;      // latest successful attempt's outputs
  std::optional<ErrorInfo> error;
  std::optional<std::string> abort_reason;

  uint32_t attempts = 0;       // attempts started so far
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> started_at;  // first time it left QUEUED
  std::optional<TimePoint> ended_at;    // when it became terminal
  int64_t version = 0;                  // bumped on every change (optimistic checks, watch ordering)
  // A run's root: hex SHA-256 of the CreateRun request that made it ("" for children and older runs), so the
  // same request repeated gets the run back instead of ALREADY_EXISTS.
  std::string request_digest;
  // A run's root: the subject that created it, as authentication tells ("" = none: this service has no
  // authentication, so runs it creates have none). ListRuns filters on it (`created_by`).
  std::string created_by;
  // flyteidl2.core.CatalogCacheStatus the executor reported for the latest attempt (0 = CACHE_DISABLED).
  int cache_status = 0;
  bool operator==(const Action&) const = default;
};

struct PhaseTransition {
  Phase phase = Phase::kUnspecified;
  TimePoint start_time{};
  std::optional<TimePoint> end_time;
};

struct ClusterEvent {
  TimePoint occurred_at{};
  std::string message;
  int type = 0;  // flyteidl2.workflow.ClusterEvent.Type
  std::string reason;
};

struct Attempt {
  uint32_t attempt = 1;  // 1-based
  Phase phase = Phase::kQueued;
  TimePoint start_time{};
  std::optional<TimePoint> end_time;
  std::optional<ErrorInfo> error;
  std::string output_uri;
  std::string log_info;  // serialized flyteidl2.workflow.ActionAttempt carrying only log_info/log_context
  std::string cluster;
  std::vector<PhaseTransition> transitions;
  std::vector<ClusterEvent> cluster_events;
};

struct ActionWithAttempts {
  Action action;
  std::vector<Attempt> attempts;  // ordered by attempt number
};

// A state change reported for one attempt (StateService.Put from the executor).
struct ActionEvent {
  uint32_t attempt = 1;
  Phase phase = Phase::kUnspecified;
  TimePoint occurred_at{};
  std::optional<std::string> output_uri;
  std::optional<ErrorInfo> error;
  std::vector<ClusterEvent> cluster_events;
  std::string log_info;  // replaces the attempt's log info when non-empty
  std::string cluster;
  // A FAILED/TIMED_OUT attempt that another attempt follows (the executor's retry): recorded on the attempt, while
  // the action stays live (NextActionPhase).
  bool retry_follows = false;
  // flyteidl2.core.CatalogCacheStatus of the attempt (0 = CACHE_DISABLED: not reported, keeps the action's).
  int cache_status = 0;
};

// What the SDK reports of a @flyte.trace call it ran inside a task: a record, never work to queue.
struct TraceOutcome {
  Phase phase = Phase::kSucceeded;  // as reported; UNSPECIFIED is taken as SUCCEEDED
  TimePoint start_time{};           // zero: when it is recorded
  TimePoint end_time{};
  std::string output_uri;           // the trace's outputs.pb ("" when it failed or returns nothing)
};

struct TaskKey {
  std::string org, project, domain, name, version;
  bool operator==(const TaskKey&) const = default;
};

struct Task {
  TaskKey key;
  std::string spec;  // serialized flyteidl2.task.TaskSpec, verbatim
  std::string short_name, environment, task_type, deployed_by;
  TimePoint created_at{};
  TimePoint updated_at{};
  // The code bundle the spec names (`--tgz`/`--pkl` of its container args), as read from a request; not stored.
  std::string code_bundle_uri;
};

}  // namespace flyte::runs
