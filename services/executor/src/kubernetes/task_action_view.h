#pragma once
// What the Kubernetes controller keeps of each TaskAction and Pod it watches: small structs read from the API's
// JSON, not the objects themselves, so memory stays flat however many finished actions are still in the cluster
// (a finished TaskAction's request bytes are dropped). Also the TaskAction status as the executor writes it.
// Pure functions; thread-safe.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "flyte/kube/task_action.h"
#include "runtime/action.h"

namespace flyte::executor::k8s {

using common::TimePoint;
using Json = nlohmann::json;

struct HistoryEntry {
  std::string phase;  // kube::kPhase*
  int attempt = 1;
  TimePoint time{};
  std::string message;
  std::string error_code;  // failures: the error's code and kind
  ErrorKind error_kind = ErrorKind::kUser;
};

// TaskAction .status: written by the executor only.
struct TaskActionStatus {
  std::string phase;  // "" until the executor first wrote it (= Queued)
  int attempt = 0;    // current attempt, 1-based; 0 before the first
  std::string pod_name;
  std::optional<TimePoint> started_at;    // the current attempt's Pod began running
  std::optional<TimePoint> completed_at;  // the action ended
  int system_failures = 0;
  std::optional<ActionError> error;       // the latest attempt's error
  std::vector<HistoryEntry> history;      // oldest first, at most kMaxHistory
  // The task output cache (kubernetes/task_action_cache.h): what it did (kDisabled = not looked up), the cache
  // entry's outputs on a hit, and the reservation (kCacheHeld / kCacheWaiting / "").
  CacheStatus cache_status = CacheStatus::kDisabled;
  std::string outputs_uri;
  std::string cache_reservation;

  static constexpr size_t kMaxHistory = 64;
  // `for_merge_patch`: absent optional fields are sent as null, so a JSON merge patch clears them.
  Json ToJson(bool for_merge_patch = false) const;
  static TaskActionStatus FromJson(const Json& status);  // tolerant: unknown or broken fields are left default
  // Appends, dropping the oldest entries beyond kMaxHistory. `error`: the failure this entry records.
  void Append(const std::string& phase, int attempt, TimePoint time, std::string message,
              const ActionError* error = nullptr);
  // The latest entry of `attempt`, if any.
  const HistoryEntry* LastOf(int attempt) const;
};

struct TaskActionView {
  std::string name;
  std::string uid;
  std::string resource_version;
  TimePoint created{};
  std::optional<TimePoint> deletion;  // metadata.deletionTimestamp: being deleted (aborted)
  bool has_finalizer = false;         // the executor's
  std::vector<std::string> finalizers;  // all of them, as read (finalizer removal is checked against this list)
  std::string abort_reason;           // annotation flyte.org/abort-reason, set by queue-service before deleting
  kube::ActionRef ref;
  std::string parent;
  std::string action_type;            // task | trace | condition
  std::string run_output_base;
  std::optional<TimePoint> enqueued_at;
  std::string enqueue_request;        // serialized EnqueueActionRequest; empty once the action ended
  TaskActionStatus status;

  bool is_root() const { return parent.empty(); }
  bool ended() const { return kube::IsTerminalPhase(status.phase); }
  // kInvalidArgument when the object is not a usable TaskAction (no name, broken spec). A TaskAction that ended
  // and whose end is recorded (no finalizer) keeps only its latest history entry: nothing else is needed of it,
  // and finished actions can be many.
  static absl::StatusOr<TaskActionView> FromJson(const Json& object);
};

struct PodView {
  std::string name;
  std::string uid;
  std::string task_action;  // label flyte.org/taskaction
  int attempt = 0;          // label flyte.org/attempt
  std::string primary;      // annotation flyte.org/primary-container
  TimePoint created{};
  bool deleting = false;
  std::string phase;        // Pending, Running, Succeeded, Failed, Unknown ("" before the kubelet wrote any)
  std::string reason;       // status.reason (Evicted, DeadlineExceeded, ...)
  std::string message;      // status.message
  std::optional<TimePoint> running_since;  // the primary container's state.running.startedAt (or startTime)
  std::optional<int> exit_code;            // the primary container terminated with this code
  std::string terminated_reason;           // Completed, Error, OOMKilled, ...
  std::string terminated_message;          // with FallbackToLogsOnError: the log's tail
  std::string waiting_reason;              // ErrImagePull, ImagePullBackOff, CreateContainerConfigError, ...
  std::string waiting_message;
  bool task_tmp_on_volume = false;         // annotation flyte.org/task-tmp-subpath: /tmp is on the data volume

  static PodView FromJson(const Json& object);
};

inline constexpr char kAbortReasonAnnotation[] = "flyte.org/abort-reason";
// On a Pod whose /tmp is its attempt's <attempt dir>/tmp on the data volume: that subPath (relative to the data
// root). Set by the Pod builder only (a value the task's Pod template gives is dropped).
inline constexpr char kTaskTmpAnnotation[] = "flyte.org/task-tmp-subpath";

// Parses an API timestamp; nullopt when absent or malformed.
std::optional<TimePoint> JsonTime(const Json& object, const char* key);

// The runtime phase that a TaskAction phase name stands for (kUnspecified for "").
Phase PhaseFromName(const std::string& name);
const char* PhaseToName(Phase phase);
// status.cacheStatus: Miss, Hit, Populated, LookupFailure, PutFailure, Skipped ("" for kDisabled) and back.
const char* CacheStatusToName(CacheStatus status);
CacheStatus CacheStatusFromName(const std::string& name);

}  // namespace flyte::executor::k8s
