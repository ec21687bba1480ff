#pragma once
// The one place where flyteidl2 messages and domain types meet. Validation errors are kInvalidArgument and name
// the request field path ("run_id.project is required", "request.limit 500 exceeds the maximum 200").
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "domain/list_query.h"
#include "flyteidl2/common/identifier.pb.h"
#include "flyteidl2/common/list.pb.h"
#include "flyteidl2/task/task_definition.pb.h"
#include "flyteidl2/workflow/run_definition.pb.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "service/run_use_cases.h"

namespace flyte::runs::api {

inline constexpr uint32_t kDefaultListLimit = 50;
inline constexpr uint32_t kMaxListLimit = 200;
// Filter fields "labels.<key>" (a run's label <key>) are allowed where a FieldAllowlist has this entry.
inline constexpr char kLabelFieldPrefix[] = "labels.";

// ---- trace actions (EnqueueActionRequest.trace) ----
// kInvalidArgument naming `<path>.phase` when it is not an ActionPhase.
absl::StatusOr<TraceOutcome> ToTraceOutcome(const flyteidl2::workflow::TraceAction& trace, std::string_view path);

// ---- metadata ----
// `metadata` (serialized ActionMetadata extras, "" = none) with `recovered_from` set to `source` (RunUseCasesOptions).
std::string WithRecoveredFrom(const std::string& metadata, const ActionKey& source);

// ---- identifiers ----
absl::StatusOr<RunKey> ToRunKey(const flyteidl2::common::RunIdentifier& id, std::string_view path);
absl::StatusOr<ActionKey> ToActionKey(const flyteidl2::common::ActionIdentifier& id, std::string_view path);
// `need_version` false for TaskName-like scopes.
absl::StatusOr<TaskKey> ToTaskKey(const flyteidl2::task::TaskIdentifier& id, std::string_view path,
                                  bool need_version = true);
void FillRunId(const RunKey& key, flyteidl2::common::RunIdentifier* out);
void FillActionId(const ActionKey& key, flyteidl2::common::ActionIdentifier* out);
void FillTaskId(const TaskKey& key, flyteidl2::task::TaskIdentifier* out);

// ---- lists ----
// Field names a list RPC accepts in filters and sort keys.
using FieldAllowlist = std::map<std::string, Field, std::less<>>;
const FieldAllowlist& RunListFields();
const FieldAllowlist& ActionListFields();
const FieldAllowlist& TaskListFields();

// Fills limit/offset/filters/sort of `query` from `req`; `path` is the request field ("request").
absl::Status ApplyListRequest(const flyteidl2::common::ListRequest& req, const FieldAllowlist& fields,
                              std::string_view path, ListQuery* query);
// One filter; `path` names it ("request.filters[2]", "filter[0]").
absl::StatusOr<Filter> ToFilter(const flyteidl2::common::Filter& f, const FieldAllowlist& fields,
                                std::string_view path);
std::string NextToken(const std::optional<uint64_t>& next_offset);

// ---- runs and actions ----
void ToAction(const Action& a, flyteidl2::workflow::Action* out);
void ToActionDetails(const ActionWithAttempts& a, flyteidl2::workflow::ActionDetails* out);
void ToRun(const Action& root, flyteidl2::workflow::Run* out);
void ToRunDetails(const ActionWithAttempts& root, flyteidl2::workflow::RunDetails* out);
void ToEnrichedAction(const EnrichedActionView& a, flyteidl2::workflow::EnrichedAction* out);
void ToClusterEvent(const ClusterEvent& e, flyteidl2::workflow::ClusterEvent* out);
void ToActionUpdate(const Action& a, flyteidl2::workflow::ActionUpdate* out);

// ---- tasks ----
// Validates the id (all five fields) and spec, and copies the identity fields out of the spec.
absl::StatusOr<Task> ToTask(const flyteidl2::task::TaskIdentifier& id, const flyteidl2::task::TaskSpec& spec,
                            std::string_view id_path, std::string_view spec_path, bool need_version = true);
// The code bundle a task spec names: the value after --tgz or --pkl in its container args ("" if none).
std::string CodeBundleUri(const flyteidl2::task::TaskSpec& spec);
void ToTaskMessage(const Task& t, flyteidl2::task::Task* out);
void ToTaskDetails(const Task& t, flyteidl2::task::TaskDetails* out);

// ---- StateService state (proto3 JSON of flyteidl2.workflow.ActionEvent) ----
absl::StatusOr<ActionEvent> ParseStateJson(const std::string& json);
// The same from the binary message (the executors' batched state reports).
ActionEvent FromActionEventProto(const flyteidl2::workflow::ActionEvent& msg);
std::string ToStateJson(const ActionWithAttempts& a);


}  // namespace flyte::runs::api
