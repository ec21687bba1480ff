#pragma once
// One action row as the SQL backends store it: the column list, the key clause, the parameters of an insert, the
// decoding of a selected row. Shared by sql_store.cc and sql_event_batch.cc.
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "repository/sql_common.h"

namespace flyte::runs {

// Every column of `actions`, in ActionParams / ActionFromRow order.
extern const char kActionCols[];
extern const char kActionPlaceholders[];
// The same placeholders with each column's PostgreSQL type, for an INSERT ... SELECT (where PostgreSQL would
// otherwise take untyped parameters for text).
extern const char kActionPgTypedPlaceholders[];
// The primary-key clause, bound by KeyParams.
extern const char kKeyWhere[];
// The key clause of one action_attempts row: KeyParams of the action, then the attempt number.
extern const char kAttemptWhere[];

std::vector<Value> KeyParams(const ActionKey& k);
std::vector<Value> ActionParams(const Action& a);
std::optional<ErrorInfo> ErrorAt(const Row& r, size_t i);  // message, kind, code at i, i+1, i+2
Action ActionFromRow(const Row& r);
// An attempt row's columns from `attempt` on, in this order (kAttemptFields), its phase history and cluster
// events included (kDataLoss if those columns do not decode).
extern const char kAttemptFields[];
absl::StatusOr<Attempt> AttemptAt(const Row& r, size_t first);
absl::StatusOr<std::optional<Action>> LoadAction(Tx& tx, const ActionKey& key, bool for_update);
absl::Status NotFound(const ActionKey& k);

}  // namespace flyte::runs
