#pragma once
// Use cases of flyteidl2.workflow.RunService, on domain types only (no gRPC, no SQL). The api/ adapter decodes
// requests, calls exactly one method here and converts the result.
//
// Thread-safe. Methods block on the database (call them from the RPC work pool). Errors: kInvalidArgument (bad
// input, message names what), kNotFound (no such run/action/task), kAlreadyExists (run name taken; names the run),
// kUnavailable (database down), kInternal.
//
// Watches: each Watch* subscribes first, then reads and sends the snapshot, then sends live changes delivered by
// the ChangeDispatcher (one database read per change, shared by all watchers). They return a WatchHandle that
// must be kept until the stream ends (destroying it unsubscribes), or nullptr when the watch already ended during
// the snapshot. Sinks are called on a pool thread (snapshot) or the dispatcher thread (live), one at a time per
// watch; `send` must not block and returns false when the stream is gone, which drops the watch.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "domain/list_query.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"
#include "service/change_dispatcher.h"
#include "service/project_use_cases.h"
#include "service/queue_dispatcher.h"
#include "service/recovery_planner.h"
#include "service/run_memo.h"
#include "service/storage_local.h"

namespace flyte::runs {

struct RunUseCasesOptions {
  // Root of run data: a run's outputs go under <prefix>/<project>/<domain>/<run>/ and its inline inputs are
  // written to <prefix>/<project>/<domain>/<run>/inputs-<16 hex>.pb (only for file:// prefixes; run_inputs_file.h).
  std::string storage_prefix = "file:///tmp/flyte/data";
  // Adds "recovered from `source`" to a recovered child's opaque metadata (`metadata`, a serialized
  // flyteidl2.workflow.ActionMetadata) and returns it; set by the API layer, which knows the message. Unset: the
  // metadata is kept as it is.
  std::function<std::string(const std::string& metadata, const ActionKey& source)> record_recovered_from;
};

struct CreateRunParams {
  RunKey run;                      // name "" = generate one
  std::optional<TaskKey> task_id;  // a deployed task, or ...
  std::optional<Task> inline_task; // ... a task given inline (key from the template id; spec = TaskSpec bytes)
  std::optional<std::string> inputs;  // serialized flyteidl2.task.Inputs, stored at the run's input uri
  std::string offloaded_input_uri;    // set instead of `inputs` when the client uploaded them already
  std::string run_spec;               // serialized flyteidl2.task.RunSpec
  std::string metadata;               // serialized flyteidl2.workflow.ActionMetadata extras (source, ...)
  // Identifies the request (see Action::request_digest): a run name that is taken by a run with this digest
  // returns that run. "" = never repeatable (e.g. the name was generated).
  std::string request_digest;
  std::map<std::string, std::string> labels;  // the RunSpec's labels, for ListRuns' `labels.<key>` filters
  // A recovery run (RunSpec.relation RECOVER): the run it recovers, in the same org/project/domain.
  std::optional<RunRecovery> recovery;
};

// Serialized flyteidl2.task.Inputs / Outputs, or "" when unknown or not readable here.
struct ActionData {
  std::string inputs;
  std::string outputs;
};

// One action as WatchActions shows it.
struct EnrichedActionView {
  Action action;
  bool meets_filter = true;
  std::map<int, int> children_phase_counts;  // phase number -> number of direct children in it
};

struct WatchEnd {
  std::function<void(const absl::Status&)> finish;  // ends the stream normally (watch reached its end)
};

class RunUseCases {
 public:
  // `queue`: when set, every new run (and every child enqueued through EnqueueAction) and every abort is recorded
  // in the queue outbox in the same transaction, and `queue` is woken to forward it to queue-service. nullptr =
  // runs-service alone: nothing is forwarded (and EnqueueAction answers kFailedPrecondition).
  // `projects`: when set, CreateRun in an unknown project or domain is kNotFound naming it.
  RunUseCases(Store& store, ChangeDispatcher& changes, common::Clock& clock, RunUseCasesOptions options,
              QueueDispatcher* queue = nullptr, ProjectUseCases* projects = nullptr);

  // A taken name answers the existing run when it was created with the same non-empty request_digest (a client
  // retrying after a lost reply), else kAlreadyExists naming the run. kFailedPrecondition when an inline task's
  // code bundle is missing from the data tree (CheckCodeBundle). A recovery run: kNotFound / kFailedPrecondition
  // when the run it recovers does not exist / has not ended (RecoveryPlanner::CheckSource).
  absl::StatusOr<Action> CreateRun(const CreateRunParams& params);
  absl::StatusOr<ActionWithAttempts> GetRunDetails(const RunKey& run);          // root action + attempts
  absl::StatusOr<Page<Action>> ListRuns(ListQuery query);                       // roots_only is forced
  absl::Status AbortRun(const RunKey& run, const std::string& reason);

  absl::StatusOr<ActionWithAttempts> GetActionDetails(const ActionKey& key);
  absl::StatusOr<ActionData> GetActionData(const ActionKey& key);
  absl::StatusOr<Page<Action>> ListActions(ListQuery query);                    // kNotFound if the run is absent
  // Aborts the action and its non-terminal descendants; a terminal action is left as it is (OK).
  absl::Status AbortAction(const ActionKey& key, const std::string& reason);

  // QueueService.EnqueueAction served by runs-service (a running task enqueues a child here, at the one endpoint
  // it knows): records the child (parent required; kNotFound if the run or parent is absent) and its enqueue in
  // one transaction; the dispatcher forwards `request` (serialized EnqueueActionRequest) verbatim. The same child
  // again is OK and changes nothing. kFailedPrecondition when this runs-service forwards to no queue.
  // In a recovery run, a child that takes over the outcome of the recovered run's same-named action is recorded
  // RECOVERED with its outputs and never queued (RecoveryPlanner::Recovered).
  absl::Status EnqueueAction(Action child, const std::string& request);
  // The run spec its root action was created with (serialized flyteidl2.task.RunSpec, "" when none); kNotFound
  // if the run is absent. What run-wide settings (overwrite_cache, the cache lookup scope) children inherit. Read
  // once per run (RunMemo): every child the SDK enqueues asks.
  absl::StatusOr<std::string> RunSpecOf(const RunKey& run);

  using DetailsSink = std::function<bool(const ActionWithAttempts&)>;
  // Current details, then one message per change; finishes OK once the action is terminal (sent last).
  absl::StatusOr<WatchHandle> WatchActionDetails(const ActionKey& key, DetailsSink send, WatchEnd end);
  // The same for the run's root action: ends when the run is terminal.
  absl::StatusOr<WatchHandle> WatchRunDetails(const RunKey& run, DetailsSink send, WatchEnd end);

  // Runs of a scope: snapshot (newest first, up to `snapshot_limit`), then each changed run. Never ends.
  struct RunsScope {
    std::string org, project, domain;  // project/domain "" = whole org
    std::optional<TaskKey> task;       // only runs of this task (version "" = any version)
  };
  using RunsSink = std::function<bool(const std::vector<Action>&)>;
  absl::StatusOr<WatchHandle> WatchRuns(const RunsScope& scope, RunsSink send, size_t snapshot_limit = 100);

  // All actions of a run (parents before children), then each change (the changed action and its parent, whose
  // children counts moved). `filters` may use kPhase with kValueIn and kName with kContainsCaseInsensitive.
  using ActionsSink = std::function<bool(const std::vector<EnrichedActionView>&)>;
  absl::StatusOr<WatchHandle> WatchActions(const RunKey& run, std::vector<Filter> filters, ActionsSink send);

  // Cluster events of one attempt so far, then new ones; finishes OK when the action is terminal.
  using EventsSink = std::function<bool(const std::vector<ClusterEvent>&)>;
  absl::StatusOr<WatchHandle> WatchClusterEvents(const ActionKey& key, uint32_t attempt, EventsSink send,
                                                 WatchEnd end);

 private:
  absl::StatusOr<std::vector<Action>> ListAll(ListQuery query);
  // CreateRun of a taken name: see CreateRun.
  absl::StatusOr<Action> ExistingRunFor(const RunKey& run, const std::string& request_digest);

  Store& store_;
  ChangeDispatcher& changes_;
  common::Clock& clock_;
  RunUseCasesOptions options_;
  LocalBlobStore blobs_;  // the data tree under options_.storage_prefix
  QueueDispatcher* queue_;
  ProjectUseCases* projects_;
  RecoveryPlanner recovery_;
  RunMemo<std::string> run_specs_;  // RunSpecOf: read once per run
};

// kInvalidArgument if a filter is not one WatchActions can evaluate in memory (names "filter[i]").
absl::Status CheckWatchActionsFilters(const std::vector<Filter>& filters);
// Whether `a` passes every filter (phase VALUE_IN / name CONTAINS_CASE_INSENSITIVE).
bool MeetsFilters(const Action& a, const std::vector<Filter>& filters);

// Reads a file:// (or plain path) uri; kNotFound if absent, kUnimplemented for other schemes.
absl::StatusOr<std::string> ReadLocalBlob(const std::string& uri);

}  // namespace flyte::runs
