#pragma once
// Reads what a batch of state reports needs and writes its EventPlan (event_plan.h), inside the caller's
// transaction. On PostgreSQL each read is one statement over unnest() of array parameters, whatever the batch
// size, and so are all writes together (generic plans fit them: Database::WriteGenericPlans); on SQLite
// (in-process, no round trips) one statement per row.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "repository/event_plan.h"
#include "repository/sql_common.h"

namespace flyte::runs {

// The actions the events name that exist, locked until the transaction ends (PostgreSQL: in key order).
absl::StatusOr<ActionsByKey> LoadActionsForEvents(Tx& tx, const std::vector<KeyedEvent>& events);
// The attempt rows that exist among `ids`.
absl::StatusOr<AttemptsById> LoadAttempts(Tx& tx, const std::vector<AttemptId>& ids);
// Writes the plan's rows; on PostgreSQL also its changes' action_change_log row under `change_origin`, in the same
// statement (the caller runs it through SqlActionRepository::MutateLoggingItself).
absl::Status WritePlan(Tx& tx, const EventPlan& plan, const std::string& change_origin);
// PostgreSQL, without reads or locks: writes a plan that changes exactly one action (worked out from a remembered
// row, recent_action_rows.h) with its attempt rows and change-log row, in one statement that is its own transaction,
// only if the action's stored version is still `expected_version`. False (nothing written) if it is not.
absl::StatusOr<bool> WriteOneActionIfUnchanged(Tx& tx, const EventPlan& plan, int64_t expected_version,
                                              const std::string& change_origin);

}  // namespace flyte::runs
