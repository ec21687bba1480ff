#pragma once
// The TaskAction custom resource (flyte.org/v1, namespaced, deploy/crds/flyte.org_taskactions.yaml): one per queued
// action. queue-service creates them (spec, labels, the executor's finalizer, an ownerReference to the parent
// action's TaskAction); the executor reconciles them into Pods and writes their status. This header is the one
// place both services take the resource's names, labels and field layout from.
//
// Names are deterministic so a repeated create answers 409 instead of duplicating: `<run>-<action>` when that is a
// valid DNS-1123 label, else a sanitised prefix plus a hash of the whole action key; Pods are
// `<run>-<action>-<attempt>` the same way. Label values that are not valid label values are hashed the same way,
// so selectors built with LabelValue always match.
// Pure functions; thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flyte/kube/client.h"

namespace flyte::kube {

inline const Resource kTaskActions{"flyte.org", "v1", "taskactions"};
inline constexpr char kTaskActionKind[] = "TaskAction";
inline constexpr char kTaskActionApiVersion[] = "flyte.org/v1";
inline constexpr char kExecutorFinalizer[] = "flyte.org/executor";

inline constexpr char kLabelOrg[] = "flyte.org/org";
inline constexpr char kLabelProject[] = "flyte.org/project";
inline constexpr char kLabelDomain[] = "flyte.org/domain";
inline constexpr char kLabelRun[] = "flyte.org/run";
inline constexpr char kLabelAction[] = "flyte.org/action";
inline constexpr char kLabelParent[] = "flyte.org/parent-action";
inline constexpr char kLabelIsRoot[] = "flyte.org/is-root";
inline constexpr char kLabelAttempt[] = "flyte.org/attempt";
inline constexpr char kLabelTaskAction[] = "flyte.org/taskaction";
inline constexpr char kLabelManagedBy[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByExecutor[] = "flyte-executor";
inline constexpr char kManagedByQueue[] = "flyte-queue";

// Status phases (the CRD's enum).
inline constexpr char kPhaseQueued[] = "Queued";
inline constexpr char kPhaseInitializing[] = "Initializing";
inline constexpr char kPhaseRunning[] = "Running";
inline constexpr char kPhaseSucceeded[] = "Succeeded";
inline constexpr char kPhaseFailed[] = "Failed";
inline constexpr char kPhaseAborted[] = "Aborted";
inline constexpr char kPhaseTimedOut[] = "TimedOut";
bool IsTerminalPhase(const std::string& phase);

struct ActionRef {
  std::string org;
  std::string project;
  std::string domain;
  std::string run;
  std::string action;
  bool operator==(const ActionRef&) const = default;
  std::string ToString() const;  // "org/project/domain/run/action"
};

// What queue-service knows of an action when it creates its TaskAction.
struct TaskActionSpec {
  ActionRef ref;
  std::string parent_action;    // "" for the root
  std::string action_type;      // "task", "trace" or "condition"
  std::string task_type;        // e.g. "python"
  std::string short_name;
  std::string input_uri;
  std::string run_output_base;
  std::string group;
  std::string enqueue_request;  // serialized flyteidl2.workflow.EnqueueActionRequest, verbatim (binary)
  std::optional<std::chrono::system_clock::time_point> enqueued_at;  // when queue-service took it (microseconds)
};

// A valid DNS-1123 label of at most `max` characters: `text` itself when it already is one, otherwise a sanitised
// prefix + "-" + 10 hex digits of a stable hash of `hash_of` (default `text`).
std::string DnsLabel(const std::string& text, size_t max = 63, const std::string& hash_of = "");
// A valid label value: `text` itself when it is one, else a prefix + hash as DnsLabel.
std::string LabelValue(const std::string& text);

// The primary name of an action's TaskAction, and the name used when the primary one is taken by another action
// (same run and action names in another project or domain of the same namespace).
std::string TaskActionName(const ActionRef& ref);
std::string TaskActionFallbackName(const ActionRef& ref);
// The Pod of attempt `attempt`.
std::string PodName(const ActionRef& ref, int attempt);

// Label selector for every TaskAction (or Pod) of a run.
std::string RunSelector(const ActionRef& any_action_of_run);
// Labels identifying an action (org, project, domain, run, action).
Json ActionLabels(const ActionRef& ref);

// The TaskAction object to create: labels, the executor's finalizer, the spec; an ownerReference to `owner`
// (the parent's TaskAction: {name, uid}) when given.
struct OwnerRef {
  std::string name;
  std::string uid;
};
Json BuildTaskAction(const TaskActionSpec& spec, const std::string& ns, const std::string& name,
                     const std::optional<OwnerRef>& owner);
// The spec of a TaskAction object. kInvalidArgument naming the field when it is missing or malformed.
absl::StatusOr<TaskActionSpec> ParseTaskActionSpec(const Json& object);

}  // namespace flyte::kube
