#include "repository/sql_event_batch.h"

#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "flyte/db/array_param.h"
#include "repository/action_rows.h"
#include "repository/attempt_history.h"
#include "repository/sql_store.h"

namespace flyte::runs {
namespace {

using db::PgArray;

bool Postgres(const Tx& tx) { return tx.dialect() == db::Dialect::kPostgres; }

// The key columns of many rows, as arrays for unnest(): 5 text arrays (the action), then the attempt numbers.
// kUnnestKey / kUnnestAttemptKey name them in SQL.
struct KeyArrays {
  PgArray org, project, domain, run_name, name, attempt;

  void Add(const ActionKey& k) {
    org.Add(k.run.org);
    project.Add(k.run.project);
    domain.Add(k.run.domain);
    run_name.Add(k.run.name);
    name.Add(k.name);
  }
  void Add(const AttemptId& id) {
    Add(id.action);
    attempt.Add(int64_t{id.attempt});
  }
  std::vector<Value> Values() const {
    std::vector<Value> v = {org.ToValue(), project.ToValue(), domain.ToValue(), run_name.ToValue(), name.ToValue()};
    if (attempt.size() > 0) v.push_back(attempt.ToValue());
    return v;
  }
};

constexpr char kUnnestAttemptKey[] = "?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[]";
constexpr char kAttemptKeyCols[] = "org, project, domain, run_name, action_name, attempt";

std::vector<Value> AttemptKeyParams(const AttemptId& id) {
  const ActionKey& k = id.action;
  return {k.run.org, k.run.project, k.run.domain, k.run.name, k.name, int64_t{id.attempt}};
}

// ---- reads --------------------------------------------------------------------------------------------------

// Every column of action_attempts, in AttemptFromRow order.
std::string AttemptCols() { return std::string("org, project, domain, run_name, action_name, ") + kAttemptFields; }

absl::StatusOr<std::pair<AttemptId, Attempt>> AttemptFromRow(const Row& r) {
  absl::StatusOr<Attempt> a = AttemptAt(r, 5);
  if (!a.ok()) return a.status();
  const AttemptId id{ActionKey{RunKey{r.Str(0), r.Str(1), r.Str(2), r.Str(3)}, r.Str(4)}, a->attempt};
  return std::make_pair(id, *std::move(a));
}

// ---- writes --------------------------------------------------------------------------------------------------

std::optional<int64_t> ErrorKind(const std::optional<ErrorInfo>& e) {
  if (!e) return std::nullopt;
  return static_cast<int>(e->kind);
}

constexpr char kAttemptConflict[] =
    " ON CONFLICT (org, project, domain, run_name, action_name, attempt) DO UPDATE SET phase = excluded.phase, "
    "end_time = excluded.end_time, error_message = excluded.error_message, error_kind = excluded.error_kind, "
    "error_code = excluded.error_code, output_uri = excluded.output_uri, log_info = excluded.log_info, "
    "cluster = excluded.cluster, phase_history = excluded.phase_history, cluster_events = excluded.cluster_events";

// The state columns a report changes, as `col = ?` in ActionStateParams' order.
constexpr char kActionStateSet[] =
    "phase = ?, attempts = ?, updated_at = ?, started_at = ?, ended_at = ?, output_uri = ?, error_message = ?, "
    "error_kind = ?, error_code = ?, version = ?, cache_status = ?";

std::vector<Value> ActionStateParams(const Action& a) {
  return {int64_t{static_cast<int>(a.phase)},
          int64_t{a.attempts},
          Micros(a.updated_at),
          OptMicros(a.started_at),
          OptMicros(a.ended_at),
          a.output_uri,
          a.error ? Value(a.error->message) : Value(nullptr),
          db::Nullable(ErrorKind(a.error)),
          a.error ? Value(a.error->code) : Value(nullptr),
          a.version,
          int64_t{a.cache_status}};
}

// SQLite (in-process, no round trips): one statement per row. New attempts are inserted, known ones overwritten
// with their final state.
absl::Status WriteRows(Tx& tx, const EventPlan& plan) {
  for (const Action& a : plan.actions) {
    std::vector<Value> p = ActionStateParams(a);
    for (Value& v : KeyParams(a.key)) p.push_back(std::move(v));
    absl::StatusOr<int64_t> n =
        tx.Exec(std::string("UPDATE actions SET ") + kActionStateSet + " WHERE " + kKeyWhere, p);
    if (!n.ok()) return n.status();
  }
  for (const auto& [id, a] : plan.attempts) {
    std::vector<Value> p = AttemptKeyParams(id);
    p.insert(p.end(), {int64_t{static_cast<int>(a.phase)}, Micros(a.start_time), OptMicros(a.end_time),
                       a.error ? Value(a.error->message) : Value(nullptr), db::Nullable(ErrorKind(a.error)),
                       a.error ? Value(a.error->code) : Value(nullptr), a.output_uri, Bytes{a.log_info}, a.cluster,
                       EncodePhaseHistory(a.transitions), EncodeClusterEvents(a.cluster_events)});
    absl::StatusOr<int64_t> n = tx.Exec(std::string("INSERT INTO action_attempts (") + AttemptCols() +
                                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" +
                                            kAttemptConflict,
                                        p);
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

// PostgreSQL: the changed actions as arrays, in kPgUpdateActions' order.
std::vector<Value> ActionArrays(const std::vector<Action>& actions) {
  KeyArrays k;
  PgArray phase, attempts, updated, started, ended, output, message, kind, code, version, cache_status;
  for (const Action& a : actions) {
    k.Add(a.key);
    phase.Add(int64_t{static_cast<int>(a.phase)});
    attempts.Add(int64_t{a.attempts});
    updated.Add(Micros(a.updated_at));
    started.Add(a.started_at ? std::optional<int64_t>(Micros(*a.started_at)) : std::nullopt);
    ended.Add(a.ended_at ? std::optional<int64_t>(Micros(*a.ended_at)) : std::nullopt);
    output.Add(a.output_uri);
    message.Add(a.error ? std::optional<std::string>(a.error->message) : std::nullopt);
    kind.Add(ErrorKind(a.error));
    code.Add(a.error ? std::optional<std::string>(a.error->code) : std::nullopt);
    version.Add(a.version);
    cache_status.Add(int64_t{a.cache_status});
  }
  std::vector<Value> p = k.Values();
  for (const PgArray* c :
       {&phase, &attempts, &updated, &started, &ended, &output, &message, &kind, &code, &version, &cache_status}) {
    p.push_back(c->ToValue());
  }
  return p;
}

const std::string kPgUpdateActions =
    "UPDATE actions AS a SET phase = u.phase, attempts = u.attempts, updated_at = u.updated_at, "
    "started_at = u.started_at, ended_at = u.ended_at, output_uri = u.output_uri, error_message = u.error_message, "
    "error_kind = u.error_kind, error_code = u.error_code, version = u.version, cache_status = u.cache_status "
    "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::bigint[], "
    "?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::int[], ?::text[], ?::bigint[], ?::int[]) "
    "AS u(org, project, domain, run_name, name, phase, attempts, updated_at, started_at, ended_at, output_uri, "
    "error_message, error_kind, error_code, version, cache_status) "
    "WHERE a.org = u.org AND a.project = u.project AND a.domain = u.domain AND a.run_name = u.run_name "
    "AND a.name = u.name";

// PostgreSQL: the touched attempts as arrays, in kPgUpsertAttempts' order.
std::vector<Value> AttemptArrays(const std::vector<std::pair<AttemptId, Attempt>>& attempts) {
  KeyArrays k;
  PgArray phase, start, end, message, kind, code, output, log_info, cluster, history, events;
  for (const auto& [id, a] : attempts) {
    k.Add(id);
    phase.Add(int64_t{static_cast<int>(a.phase)});
    start.Add(Micros(a.start_time));
    end.Add(a.end_time ? std::optional<int64_t>(Micros(*a.end_time)) : std::nullopt);
    message.Add(a.error ? std::optional<std::string>(a.error->message) : std::nullopt);
    kind.Add(ErrorKind(a.error));
    code.Add(a.error ? std::optional<std::string>(a.error->code) : std::nullopt);
    output.Add(a.output_uri);
    log_info.Add(absl::BytesToHexString(a.log_info));
    cluster.Add(a.cluster);
    history.Add(EncodePhaseHistory(a.transitions));
    events.Add(EncodeClusterEvents(a.cluster_events));
  }
  std::vector<Value> p = k.Values();
  for (const PgArray* c :
       {&phase, &start, &end, &message, &kind, &code, &output, &log_info, &cluster, &history, &events}) {
    p.push_back(c->ToValue());
  }
  return p;
}

// The upsert of AttemptArrays' rows; `condition` ("" = none) a WHERE clause on whether to insert any.
std::string PgUpsertAttempts(const std::string& condition) {
  return std::string("INSERT INTO action_attempts (") + AttemptCols() +
         ") SELECT org, project, domain, run_name, action_name, attempt, phase, start_time, end_time, error_message, "
         "error_kind, error_code, output_uri, decode(log_info, 'hex'), cluster, phase_history, cluster_events "
         "FROM unnest(" + kUnnestAttemptKey +
         ", ?::int[], ?::bigint[], ?::bigint[], ?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], "
         "?::text[], ?::text[]) AS u(" + kAttemptKeyCols +
         ", phase, start_time, end_time, error_message, error_kind, error_code, output_uri, log_info, cluster, "
         "phase_history, cluster_events)" + condition + kAttemptConflict;
}

// PostgreSQL: the plan's actions, its attempts and its change-log row as one statement (one round trip, where
// three separate ones took three). Any side may be empty; no changes, no log row.
// The closing SELECT of both one-statement writes: how many actions, attempt rows and change-log rows it wrote.
constexpr char kCountWritten[] =
    "SELECT (SELECT count(*) FROM updated), (SELECT count(*) FROM upserted), (SELECT count(*) FROM logged)";

// Runs a one-statement write (`p` ending with its attempt arrays' values) and counts what it inserted; returns
// how many actions it updated.
absl::StatusOr<int64_t> RunWrite(Tx& tx, const std::string& sql, std::vector<Value> p, const EventPlan& plan,
                                 const std::string& change_origin) {
  p.push_back(change_origin);
  p.push_back(ChangeLogPayloads(plan.changes));
  absl::StatusOr<Rows> rows = tx.Query(sql, p);
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1) return absl::InternalError("ApplyEvents: expected one row");
  tx.CountInserted("action_attempts", rows->front().Int(1));
  tx.CountInserted("action_change_log", rows->front().Int(2));
  return rows->front().Int(0);
}

absl::Status WriteInOneStatement(Tx& tx, const EventPlan& plan, const std::string& change_origin) {
  static const std::string sql =
      "WITH updated AS (" + kPgUpdateActions + " RETURNING 1), upserted AS (" + PgUpsertAttempts("") +
      " RETURNING 1), logged AS (INSERT INTO action_change_log (origin, payloads) SELECT ?::text, c.p "
      "FROM (SELECT ?::text[] AS p) AS c WHERE cardinality(c.p) > 0 RETURNING 1) " + kCountWritten;
  std::vector<Value> p = ActionArrays(plan.actions);
  for (Value& v : AttemptArrays(plan.attempts)) p.push_back(std::move(v));
  return RunWrite(tx, sql, std::move(p), plan, change_origin).status();
}

}  // namespace

// PostgreSQL: the plan of one action's reports as one statement that is its own transaction, written only if the
// action's stored version is still `expected_version`: the action's new state, its attempt rows and the change-log
// row, or nothing at all. True if written.
absl::StatusOr<bool> WriteOneActionIfUnchanged(Tx& tx, const EventPlan& plan, int64_t expected_version,
                                              const std::string& change_origin) {
  static const std::string sql =
      std::string("WITH updated AS (UPDATE actions SET ") + kActionStateSet + " WHERE " + kKeyWhere +
      " AND version = ? RETURNING 1), upserted AS (" + PgUpsertAttempts(" WHERE EXISTS (SELECT 1 FROM updated)") +
      " RETURNING 1), logged AS (INSERT INTO action_change_log (origin, payloads) SELECT ?::text, ?::text[] "
      "WHERE EXISTS (SELECT 1 FROM updated) RETURNING 1) " + kCountWritten;
  if (plan.actions.size() != 1) return absl::InternalError("WriteOneActionIfUnchanged: one action per plan");
  const Action& a = plan.actions.front();
  std::vector<Value> p = ActionStateParams(a);
  for (Value& v : KeyParams(a.key)) p.push_back(std::move(v));
  p.push_back(expected_version);
  for (Value& v : AttemptArrays(plan.attempts)) p.push_back(std::move(v));
  absl::StatusOr<int64_t> updated = RunWrite(tx, sql, std::move(p), plan, change_origin);
  if (!updated.ok()) return updated.status();
  return *updated == 1;
}

absl::StatusOr<ActionsByKey> LoadActionsForEvents(Tx& tx, const std::vector<KeyedEvent>& events) {
  std::set<ActionKey, ActionKeyLess> keys;
  for (const KeyedEvent& e : events) keys.insert(e.key);
  ActionsByKey out;
  if (!Postgres(tx)) {
    for (const ActionKey& k : keys) {
      absl::StatusOr<std::optional<Action>> a = LoadAction(tx, k, /*for_update=*/true);
      if (!a.ok()) return a.status();
      if (*a) out.emplace(k, std::move(**a));
    }
    return out;
  }
  KeyArrays k;
  for (const ActionKey& key : keys) k.Add(key);
  absl::StatusOr<Rows> rows = tx.Query(
      std::string("SELECT ") + kActionCols +
          " FROM actions AS a JOIN unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) "
          "AS k(org, project, domain, run_name, name) USING (org, project, domain, run_name, name) "
          "ORDER BY org, project, domain, run_name, name FOR UPDATE OF a",
      k.Values());
  if (!rows.ok()) return rows.status();
  for (const Row& r : *rows) {
    Action a = ActionFromRow(r);
    ActionKey key = a.key;
    out.emplace(std::move(key), std::move(a));
  }
  return out;
}

absl::StatusOr<AttemptsById> LoadAttempts(Tx& tx, const std::vector<AttemptId>& ids) {
  AttemptsById out;
  if (ids.empty()) return out;
  if (!Postgres(tx)) {
    for (const AttemptId& id : ids) {
      absl::StatusOr<Rows> rows = tx.Query(
          std::string("SELECT ") + AttemptCols() + " FROM action_attempts WHERE " + kAttemptWhere,
          AttemptKeyParams(id));
      if (!rows.ok()) return rows.status();
      if (rows->empty()) continue;
      absl::StatusOr<std::pair<AttemptId, Attempt>> row = AttemptFromRow(rows->front());
      if (!row.ok()) return row.status();
      out.insert(*std::move(row));
    }
    return out;
  }
  KeyArrays k;
  for (const AttemptId& id : ids) k.Add(id);
  absl::StatusOr<Rows> rows =
      tx.Query(std::string("SELECT ") + AttemptCols() + " FROM action_attempts JOIN unnest(" + kUnnestAttemptKey +
                   ") AS k(" + kAttemptKeyCols + ") USING (" + kAttemptKeyCols + ")",
               k.Values());
  if (!rows.ok()) return rows.status();
  for (const Row& r : *rows) {
    absl::StatusOr<std::pair<AttemptId, Attempt>> row = AttemptFromRow(r);
    if (!row.ok()) return row.status();
    out.insert(*std::move(row));
  }
  return out;
}

absl::Status WritePlan(Tx& tx, const EventPlan& plan, const std::string& change_origin) {
  if (plan.actions.empty() && plan.attempts.empty() && plan.changes.empty()) return absl::OkStatus();
  return Postgres(tx) ? WriteInOneStatement(tx, plan, change_origin) : WriteRows(tx, plan);
}

}  // namespace flyte::runs
