#include "repository/action_rows.h"

#include <string>

#include "repository/attempt_history.h"

namespace flyte::runs {

const char kActionCols[] =
    "org, project, domain, run_name, name, parent_name, action_type, phase, group_name, task_org, task_project, "
    "task_domain, task_name, task_version, task_type, short_name, environment, task_spec, trace_spec, "
    "condition_spec, run_spec, metadata, input_uri, run_output_base, output_uri, error_message, error_kind, "
    "error_code, abort_reason, attempts, created_at, updated_at, started_at, ended_at, version, request_digest, "
    "created_by, cache_status";
const char kActionPlaceholders[] =
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
const char kActionPgTypedPlaceholders[] =
    "?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::int, ?::int, ?::text, ?::text, ?::text, ?::text, "
    "?::text, ?::text, ?::text, ?::text, ?::text, ?::bytea, ?::bytea, ?::bytea, ?::bytea, ?::bytea, ?::text, "
    "?::text, ?::text, ?::text, ?::int, ?::text, ?::text, ?::int, ?::bigint, ?::bigint, ?::bigint, ?::bigint, "
    "?::bigint, ?::text, ?::text, ?::int";
const char kKeyWhere[] = "org = ? AND project = ? AND domain = ? AND run_name = ? AND name = ?";
const char kAttemptWhere[] =
    "org = ? AND project = ? AND domain = ? AND run_name = ? AND action_name = ? AND attempt = ?";

std::vector<Value> KeyParams(const ActionKey& k) {
  return {k.run.org, k.run.project, k.run.domain, k.run.name, k.name};
}

std::vector<Value> ActionParams(const Action& a) {
  return {a.key.run.org, a.key.run.project, a.key.run.domain, a.key.run.name, a.key.name,
          db::Nullable(a.parent), int64_t{static_cast<int>(a.type)}, int64_t{static_cast<int>(a.phase)}, a.group,
          a.task_org, a.task_project, a.task_domain, a.task_name, a.task_version, a.task_type, a.short_name,
          a.environment, Bytes{a.task_spec}, Bytes{a.trace_spec}, Bytes{a.condition_spec}, Bytes{a.run_spec},
          Bytes{a.metadata}, a.input_uri, a.run_output_base, a.output_uri,
          a.error ? Value(a.error->message) : Value(nullptr),
          a.error ? Value(int64_t{static_cast<int>(a.error->kind)}) : Value(nullptr),
          a.error ? Value(a.error->code) : Value(nullptr), db::Nullable(a.abort_reason), int64_t{a.attempts},
          Micros(a.created_at), Micros(a.updated_at), OptMicros(a.started_at), OptMicros(a.ended_at), a.version,
          a.request_digest, a.created_by, int64_t{a.cache_status}};
}

std::optional<ErrorInfo> ErrorAt(const Row& r, size_t i) {
  if (r.IsNull(i) && r.IsNull(i + 1) && r.IsNull(i + 2)) return std::nullopt;
  return ErrorInfo{r.Str(i), static_cast<ErrorKind>(r.Int(i + 1)), r.Str(i + 2)};
}

Action ActionFromRow(const Row& r) {
  Action a;
  a.key = ActionKey{RunKey{r.Str(0), r.Str(1), r.Str(2), r.Str(3)}, r.Str(4)};
  a.parent = r.OptStr(5);
  a.type = static_cast<ActionType>(r.Int(6));
  a.phase = static_cast<Phase>(r.Int(7));
  a.group = r.Str(8);
  a.task_org = r.Str(9);
  a.task_project = r.Str(10);
  a.task_domain = r.Str(11);
  a.task_name = r.Str(12);
  a.task_version = r.Str(13);
  a.task_type = r.Str(14);
  a.short_name = r.Str(15);
  a.environment = r.Str(16);
  a.task_spec = r.Str(17);
  a.trace_spec = r.Str(18);
  a.condition_spec = r.Str(19);
  a.run_spec = r.Str(20);
  a.metadata = r.Str(21);
  a.input_uri = r.Str(22);
  a.run_output_base = r.Str(23);
  a.output_uri = r.Str(24);
  a.error = ErrorAt(r, 25);
  a.abort_reason = r.OptStr(28);
  a.attempts = static_cast<uint32_t>(r.Int(29));
  a.created_at = common::FromUnixMicros(r.Int(30));
  a.updated_at = common::FromUnixMicros(r.Int(31));
  a.started_at = OptTime(r, 32);
  a.ended_at = OptTime(r, 33);
  a.version = r.Int(34);
  a.request_digest = r.Str(35);
  a.created_by = r.Str(36);
  a.cache_status = static_cast<int>(r.Int(37));
  return a;
}

const char kAttemptFields[] =
    "attempt, phase, start_time, end_time, error_message, error_kind, error_code, output_uri, log_info, cluster, "
    "phase_history, cluster_events";

absl::StatusOr<Attempt> AttemptAt(const Row& r, size_t i) {
  Attempt at;
  at.attempt = static_cast<uint32_t>(r.Int(i));
  at.phase = static_cast<Phase>(r.Int(i + 1));
  at.start_time = common::FromUnixMicros(r.Int(i + 2));
  at.end_time = OptTime(r, i + 3);
  at.error = ErrorAt(r, i + 4);
  at.output_uri = r.Str(i + 7);
  at.log_info = r.Str(i + 8);
  at.cluster = r.Str(i + 9);
  absl::StatusOr<std::vector<PhaseTransition>> history = DecodePhaseHistory(r.Str(i + 10));
  if (!history.ok()) return history.status();
  at.transitions = std::move(*history);
  absl::StatusOr<std::vector<ClusterEvent>> events = DecodeClusterEvents(r.Str(i + 11));
  if (!events.ok()) return events.status();
  at.cluster_events = std::move(*events);
  return at;
}

absl::StatusOr<std::optional<Action>> LoadAction(Tx& tx, const ActionKey& key, bool for_update) {
  std::string sql = std::string("SELECT ") + kActionCols + " FROM actions WHERE " + kKeyWhere;
  if (for_update && tx.dialect() == db::Dialect::kPostgres) sql += " FOR UPDATE";
  absl::StatusOr<Rows> rows = tx.Query(sql, KeyParams(key));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Action>();
  return std::optional<Action>(ActionFromRow(rows->front()));
}

absl::Status NotFound(const ActionKey& k) {
  return absl::NotFoundError("action " + k.run.org + "/" + k.run.project + "/" + k.run.domain + "/" + k.run.name +
                             "/" + k.name + " not found");
}

}  // namespace flyte::runs
