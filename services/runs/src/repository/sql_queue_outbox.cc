// The queue outbox (queue_outbox table, migration 0002) and the ActionRepository methods that record a command in
// the same transaction as the change behind it.
#include <string>
#include <utility>

#include "flyte/db/array_param.h"
#include "repository/action_rows.h"
#include "repository/sql_common.h"
#include "repository/sql_store.h"

namespace flyte::runs {
namespace {

// An outbox row's columns and their values (OutboxValues); next_attempt_at 0: due at once, whatever the
// dispatcher's clock says.
constexpr char kOutboxInsert[] =
    "INSERT INTO queue_outbox (kind, org, project, domain, run_name, action_name, reason, request, next_attempt_at, "
    "created_at) ";
// The values as typed placeholders, for an INSERT ... SELECT in one statement (PostgreSQL).
constexpr char kOutboxPgTyped[] =
    "?::int, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bytea, 0, ?::bigint";

std::vector<Value> OutboxValues(const QueueCommand& c, TimePoint now) {
  return {int64_t{static_cast<int>(c.kind)}, c.key.run.org, c.key.run.project, c.key.run.domain, c.key.run.name,
          c.key.name, c.reason, Bytes{c.request}, Micros(now)};
}

}  // namespace

absl::Status SqlQueueOutbox::Record(Tx& tx, const QueueCommand& c, TimePoint now) {
  return tx.Exec(std::string(kOutboxInsert) + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)", OutboxValues(c, now)).status();
}

absl::StatusOr<std::vector<QueueCommand>> SqlQueueOutbox::Claim(size_t limit, TimePoint now,
                                                                std::chrono::microseconds claim_for) {
  std::vector<QueueCommand> out;
  const bool pg = db_.dialect() == db::Dialect::kPostgres;
  const int64_t at = Micros(now);
  absl::Status s = db_.Write("ClaimQueueCommands", [&](Tx& tx) -> absl::Status {
    out.clear();
    constexpr char kSelect[] =
        "SELECT id, kind, org, project, domain, run_name, action_name, reason, request, attempts FROM queue_outbox "
        "WHERE next_attempt_at <= ? AND ";
    // SQLite: this process owns the file. PostgreSQL: replicas sharing the database skip rows another dispatcher is
    // claiming right now, unless the process that claimed them has no connection left (it died: its claim would
    // otherwise hold them for claim_for).
    const std::string sql =
        std::string(kSelect) +
        (pg ? "(claimed_until <= ? OR (claimed_by <> '' AND claimed_by <> ? AND NOT EXISTS (SELECT 1 FROM "
              "pg_stat_activity WHERE application_name = ? || claimed_by))) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED"
            : "claimed_until <= ? ORDER BY id LIMIT ?");
    const std::vector<Value> params =
        pg ? std::vector<Value>{at, at, owner_, std::string(kOwnerApplicationPrefix), static_cast<int64_t>(limit)}
           : std::vector<Value>{at, at, static_cast<int64_t>(limit)};
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    for (const Row& r : *rows) {
      QueueCommand c;
      c.id = r.Int(0);
      c.kind = static_cast<QueueCommandKind>(r.Int(1));
      c.key = ActionKey{RunKey{r.Str(2), r.Str(3), r.Str(4), r.Str(5)}, r.Str(6)};
      c.reason = r.Str(7);
      c.request = r.Str(8);
      c.attempts = static_cast<uint32_t>(r.Int(9));
      out.push_back(std::move(c));
    }
    if (out.empty()) return absl::OkStatus();
    // One statement for the whole batch rather than one per row.
    std::vector<int64_t> ids;
    for (const QueueCommand& c : out) ids.push_back(c.id);
    return tx
        .Exec("UPDATE queue_outbox SET claimed_until = ?, claimed_by = ? WHERE " + db::IdIn(tx.dialect(), "id"),
              {at + claim_for.count(), owner_, db::IdsParam(tx.dialect(), ids)})
        .status();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status SqlQueueOutbox::Done(const std::vector<int64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  return db_.Write("QueueCommandDone", [&](Tx& tx) -> absl::Status {
    return tx.Exec("DELETE FROM queue_outbox WHERE " + db::IdIn(tx.dialect(), "id"), {db::IdsParam(tx.dialect(), ids)})
        .status();
  });
}

absl::Status SqlQueueOutbox::Retry(const std::vector<int64_t>& ids, TimePoint next_attempt_at,
                                   const std::string& error) {
  if (ids.empty()) return absl::OkStatus();
  return db_.Write("QueueCommandRetry", [&](Tx& tx) -> absl::Status {
    return tx
        .Exec("UPDATE queue_outbox SET attempts = attempts + 1, next_attempt_at = ?, claimed_until = 0, claimed_by = '', "
              "last_error = ? WHERE " + db::IdIn(tx.dialect(), "id"),
              {Micros(next_attempt_at), error.substr(0, 500), db::IdsParam(tx.dialect(), ids)})
        .status();
  });
}

absl::Status SqlQueueOutbox::ReleaseClaims() {
  return db_.Write("ReleaseQueueClaims", [&](Tx& tx) -> absl::Status {
    return tx.Exec("UPDATE queue_outbox SET claimed_until = 0, claimed_by = '' WHERE claimed_until <> 0").status();
  });
}

absl::StatusOr<int64_t> SqlQueueOutbox::Count() {
  int64_t n = 0;
  absl::Status s = db_.Read("CountQueueCommands", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query("SELECT COUNT(*) FROM queue_outbox");
    if (!rows.ok()) return rows.status();
    n = rows->empty() ? 0 : rows->front().Int(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

// ---- SqlActionRepository: changes with their outbox row -----------------------------------------------------

absl::Status SqlActionRepository::CreateRunAndRecord(const Action& root, const QueueCommand& command) {
  RunCreation with;
  with.enqueue = command;
  return CreateRunWith(root, with).status();
}

absl::StatusOr<Action> SqlActionRepository::CreateRunWith(const Action& root, const RunCreation& with) {
  if (root.key.name != kRootActionName || root.parent) {
    return absl::InvalidArgumentError("a run's root action must be named a0 and have no parent");
  }
  const MutateFn in_transaction = [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    absl::Status st = Insert(tx, root, changes);
    if (st.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("run " + root.key.run.name + " already exists");
    }
    if (!st.ok()) return st;
    if (with.enqueue) {
      if (st = SqlQueueOutbox::Record(tx, *with.enqueue, root.created_at); !st.ok()) return st;
    }
    for (const auto& [key, value] : with.labels) {
      const RunKey& r = root.key.run;
      absl::StatusOr<int64_t> n =
          tx.Exec("INSERT INTO run_labels (org, project, domain, run_name, label_key, label_value) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {r.org, r.project, r.domain, r.name, key, value});
      if (!n.ok()) return n.status();
    }
    if (with.recovery) return InsertRecovery(tx, root.key.run, *with.recovery);
    return absl::OkStatus();
  };
  // PostgreSQL: one statement (a recovery run, which is rare, takes the transaction above).
  absl::Status s =
      postgres() && !with.recovery ? CreateRunInOneStatement(root, with) : Mutate("CreateRun", in_transaction);
  if (!s.ok()) return s;
  // The row as Get would read it back: Insert starts versions at 1, and times are stored in microseconds.
  Action stored = root;
  stored.version = 1;
  stored.created_at = AsStored(root.created_at);
  stored.updated_at = AsStored(root.updated_at);
  if (root.started_at) stored.started_at = AsStored(*root.started_at);
  if (root.ended_at) stored.ended_at = AsStored(*root.ended_at);
  return stored;
}

// PostgreSQL: CreateRunWith's inserts (the root action, its enqueue command, its labels, the change-log row) as
// one statement that is its own transaction: one round trip instead of one per insert plus BEGIN and COMMIT. A
// taken name inserts nothing (ON CONFLICT DO NOTHING) and is kAlreadyExists, as on SQLite.
absl::Status SqlActionRepository::CreateRunInOneStatement(const Action& root, const RunCreation& with) {
  Action a = root;
  a.version = 1;
  const ActionChange change{a.key, a.parent, a.version, std::make_shared<const Action>(a)};
  const RunKey& r = a.key.run;
  std::vector<Value> params = ActionParams(a);
  // Without a command, the outbox insert selects nothing (its placeholders are bound to an empty command).
  for (Value& v : OutboxValues(with.enqueue.value_or(QueueCommand{}), a.created_at)) params.push_back(std::move(v));
  params.push_back(int64_t{with.enqueue ? 1 : 0});
  db::PgArray keys, values;
  for (const auto& [key, value] : with.labels) {
    keys.Add(key);
    values.Add(value);
  }
  for (Value& v : std::vector<Value>{r.org, r.project, r.domain, r.name, keys.ToValue(), values.ToValue(),
                                     change_origin_, EncodeActionChange(change)}) {
    params.push_back(std::move(v));
  }
  static const std::string sql =
      std::string("WITH ins AS (INSERT INTO actions (") + kActionCols + ") VALUES (" + kActionPgTypedPlaceholders +
      ") ON CONFLICT DO NOTHING RETURNING 1), recorded AS (" + kOutboxInsert + "SELECT " + kOutboxPgTyped +
      " FROM ins WHERE ?::int = 1 RETURNING 1), "
      "labelled AS (INSERT INTO run_labels (org, project, domain, run_name, label_key, label_value) "
      "SELECT ?::text, ?::text, ?::text, ?::text, l.k, l.v FROM ins, unnest(?::text[], ?::text[]) AS l(k, v) "
      "RETURNING 1), "
      "logged AS (INSERT INTO action_change_log (origin, payloads) SELECT ?::text, ARRAY[?::text] FROM ins "
      "RETURNING 1) "
      "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM recorded), (SELECT count(*) FROM labelled), "
      "(SELECT count(*) FROM logged)";
  const auto create = [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1) return absl::InternalError("CreateRun: expected one row");
    const Row& row = rows->front();
    if (row.Int(0) != 1) return absl::AlreadyExistsError("run " + r.name + " already exists");
    tx.CountInserted("actions", 1);
    tx.CountInserted("queue_outbox", row.Int(1));
    tx.CountInserted("run_labels", row.Int(2));
    tx.CountInserted("action_change_log", row.Int(3));
    return absl::OkStatus();
  };
  absl::Status s = db_.WriteStatement("CreateRun", create);
  if (!s.ok()) return s;
  Committed({change});
  return absl::OkStatus();
}

absl::Status SqlActionRepository::CreateActionAndRecord(const Action& action, const QueueCommand& command) {
  if (!action.parent || action.key.name == kRootActionName) {
    return absl::InvalidArgumentError("a child action needs a parent and a name other than a0");
  }
  if (postgres()) return CreateActionAndRecordInOneStatement(action, command);
  return Mutate("CreateAction", [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    absl::Status s = CreateActionIn(tx, action, changes);
    if (!s.ok()) return s;
    return SqlQueueOutbox::Record(tx, command, action.created_at);
  });
}

// PostgreSQL: what the SQLite path does in a transaction (check the run and parent, insert the action, record the
// command, append to the change log) as one statement that is its own transaction: one round trip instead of six
// (BEGIN, the four statements, COMMIT), which was the largest share of runs-service's and PostgreSQL's CPU per child
// of a fan-out.
// The same outcomes: kNotFound naming the run or the parent, kAlreadyExists for an action already there (nothing
// recorded then).
absl::Status SqlActionRepository::CreateActionAndRecordInOneStatement(const Action& action,
                                                                      const QueueCommand& command) {
  Action a = action;
  a.version = 1;
  const ActionChange change{a.key, a.parent, a.version, std::make_shared<const Action>(a)};
  const RunKey& r = a.key.run;
  std::vector<Value> params = {std::string(kRootActionName), *a.parent, r.org, r.project, r.domain, r.name,
                               std::string(kRootActionName), *a.parent};
  for (Value& v : ActionParams(a)) params.push_back(std::move(v));
  for (Value& v : OutboxValues(command, a.created_at)) params.push_back(std::move(v));
  params.push_back(change_origin_);
  params.push_back(EncodeActionChange(change));
  static const std::string sql =
      std::string("WITH found AS (SELECT coalesce(bool_or(name = ?), false) AS run, "
                  "coalesce(bool_or(name = ?), false) AS parent FROM actions "
                  "WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND name IN (?, ?)), "
                  "ins AS (INSERT INTO actions (") +
      kActionCols + ") SELECT " + kActionPgTypedPlaceholders +
      " FROM found WHERE run AND parent ON CONFLICT DO NOTHING RETURNING 1), recorded AS (" + kOutboxInsert +
      "SELECT " + kOutboxPgTyped + " FROM ins), "
      "logged AS (INSERT INTO action_change_log (origin, payloads) SELECT ?::text, ARRAY[?::text] FROM ins "
      "RETURNING 1) "
      "SELECT run, parent, (SELECT count(*) FROM ins), (SELECT count(*) FROM logged) FROM found";
  bool run = false, parent = false, inserted = false;
  absl::Status s = db_.WriteStatement("CreateAction", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1) return absl::InternalError("CreateAction: expected one row");
    const Row& row = rows->front();
    run = row.Int(0) == 1;
    parent = row.Int(1) == 1;
    inserted = row.Int(2) == 1;
    if (inserted) {
      tx.CountInserted("actions", 1);
      tx.CountInserted("queue_outbox", 1);
      tx.CountInserted("action_change_log", 1);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!run) return absl::NotFoundError("run " + r.name + " not found");
  if (!parent) return absl::NotFoundError("parent action " + *a.parent + " not found");
  if (!inserted) return absl::AlreadyExistsError("action " + r.name + "/" + a.key.name + " already exists");
  Committed({change});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ActionKey>> SqlActionRepository::AbortAndRecord(const ActionKey& key,
                                                                          const std::string& reason, TimePoint now,
                                                                          const QueueCommand& command) {
  std::vector<ActionKey> changed;
  absl::Status s = Mutate("Abort", [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    absl::Status st = AbortIn(tx, key, reason, now, changes, changed);
    if (!st.ok() || changed.empty()) return st;
    return SqlQueueOutbox::Record(tx, command, now);
  });
  if (!s.ok()) return s;
  return changed;
}

}  // namespace flyte::runs
