#include "repository/sql_store.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "flyte/db/array_param.h"
#include "repository/action_rows.h"
#include "repository/attempt_history.h"
#include "repository/sql_common.h"
#include "repository/sql_event_batch.h"
#include "repository/sql_list_query.h"

namespace flyte::runs {
namespace {

// ---- tasks --------------------------------------------------------------------------------------------------

constexpr char kTaskCols[] =
    "t.org, t.project, t.domain, t.name, t.version, t.spec, t.short_name, t.environment, t.task_type, "
    "t.deployed_by, t.created_at, t.updated_at";

Task TaskFromRow(const Row& r) {
  Task t;
  t.key = TaskKey{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4)};
  t.spec = r.Str(5);
  t.short_name = r.Str(6);
  t.environment = r.Str(7);
  t.task_type = r.Str(8);
  t.deployed_by = r.Str(9);
  t.created_at = common::FromUnixMicros(r.Int(10));
  t.updated_at = common::FromUnixMicros(r.Int(11));
  return t;
}

// ---- change encoding (action_change_log.payloads) ----------------------------------------------------------

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\t') {
      out += "%09";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "%25") {
      out.push_back('%');
      i += 2;
    } else if (s.substr(i, 3) == "%09") {
      out.push_back('\t');
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string EncodeActionChange(const ActionChange& c) {
  return "1\t" + std::to_string(c.version) + "\t" + Escape(c.key.run.org) + "\t" + Escape(c.key.run.project) +
         "\t" + Escape(c.key.run.domain) + "\t" + Escape(c.key.run.name) + "\t" + Escape(c.key.name) + "\t" +
         (c.parent ? "1\t" + Escape(*c.parent) : std::string("0\t"));
}

db::Value ChangeLogPayloads(const std::vector<ActionChange>& changes) {
  db::PgArray payloads;
  for (const ActionChange& c : changes) payloads.Add(EncodeActionChange(c));
  return payloads.ToValue();
}

absl::StatusOr<ActionChange> DecodeActionChange(std::string_view payload) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= payload.size(); ++i) {
    if (i == payload.size() || payload[i] == '\t') {
      parts.push_back(payload.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 9 || parts[0] != "1") return absl::InvalidArgumentError("malformed change payload");
  ActionChange c;
  if (!absl::SimpleAtoi(absl::string_view(parts[1].data(), parts[1].size()), &c.version)) return absl::InvalidArgumentError("malformed change version");
  c.key = ActionKey{RunKey{Unescape(parts[2]), Unescape(parts[3]), Unescape(parts[4]), Unescape(parts[5])},
                    Unescape(parts[6])};
  if (parts[7] == "1") c.parent = Unescape(parts[8]);
  return c;
}

// ---- SqlActionRepository ------------------------------------------------------------------------------------

void SqlActionRepository::SetChangeListener(std::function<void(const ActionChange&)> fn) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  listener_ = fn ? std::make_shared<std::function<void(const ActionChange&)>>(std::move(fn)) : nullptr;
}

void SqlActionRepository::Deliver(const ActionChange& change) {
  std::shared_ptr<std::function<void(const ActionChange&)>> fn;
  {
    std::lock_guard<std::mutex> lock(listener_mu_);
    fn = listener_;
  }
  if (fn) (*fn)(change);
}

void SqlActionRepository::SetChangeLog(std::string origin, std::function<void()> committed) {
  change_origin_ = std::move(origin);
  changes_committed_ = std::move(committed);
}

void SqlActionRepository::Committed(const std::vector<ActionChange>& changes) {
  // Watchers of this process hear at once, with the committed row (no re-read). On PostgreSQL other replicas read
  // the change from action_change_log, woken by the NOTIFY this asks for (PgChangeFeed).
  for (const ActionChange& c : changes) Deliver(c);
  if (postgres() && !changes.empty() && changes_committed_) changes_committed_();
}

absl::Status SqlActionRepository::Mutate(std::string_view op, const MutateFn& fn) {
  std::vector<ActionChange> changes;
  absl::Status s = db_.Write(op, [&](Tx& tx) -> absl::Status {
    changes.clear();  // the unit may be retried on a fresh connection
    absl::Status st = fn(tx, changes);
    if (!st.ok() || !postgres() || changes.empty()) return st;
    // Same transaction: the log holds the changes exactly when (and only if) they commit. No NOTIFY here: it would
    // serialise this commit with every other NOTIFYing one across the WAL flush.
    return tx.Exec("INSERT INTO action_change_log (origin, payloads) VALUES (?, ?::text[])",
                   {change_origin_, ChangeLogPayloads(changes)})
        .status();
  });
  if (s.ok()) Committed(changes);
  return s;
}

absl::Status SqlActionRepository::MutateLoggingItself(std::string_view op, const MutateFn& fn) {
  std::vector<ActionChange> changes;
  absl::Status s = db_.WriteGenericPlans(op, [&](Tx& tx) -> absl::Status {
    changes.clear();  // the unit may be retried on a fresh connection
    return fn(tx, changes);
  });
  if (s.ok()) Committed(changes);
  return s;
}

absl::Status SqlActionRepository::Insert(Tx& tx, const Action& action, std::vector<ActionChange>& changes) {
  Action a = action;
  a.version = 1;
  absl::StatusOr<int64_t> n = tx.Exec(
      std::string("INSERT INTO actions (") + kActionCols + ") VALUES (" + kActionPlaceholders + ")", ActionParams(a));
  if (!n.ok()) {
    if (n.status().code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("action " + a.key.run.name + "/" + a.key.name + " already exists");
    }
    return n.status();
  }
  changes.push_back(ActionChange{a.key, a.parent, a.version, std::make_shared<const Action>(a)});
  return absl::OkStatus();
}

absl::Status SqlActionRepository::CreateRun(const Action& root) {
  if (root.key.name != kRootActionName || root.parent) {
    return absl::InvalidArgumentError("a run's root action must be named a0 and have no parent");
  }
  return Mutate("CreateRun", [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    absl::Status s = Insert(tx, root, changes);
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("run " + root.key.run.name + " already exists");
    }
    return s;
  });
}

absl::Status SqlActionRepository::CreateAction(const Action& action) {
  if (!action.parent || action.key.name == kRootActionName) {
    return absl::InvalidArgumentError("a child action needs a parent and a name other than a0");
  }
  return Mutate("CreateAction", [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    return CreateActionIn(tx, action, changes);
  });
}

// The body of CreateAction, shared with CreateActionAndRecord (sql_queue_outbox.cc).
absl::Status SqlActionRepository::CreateActionIn(Tx& tx, const Action& action, std::vector<ActionChange>& changes) {
  const RunKey& r = action.key.run;
  absl::StatusOr<Rows> rows = tx.Query(
      "SELECT name FROM actions WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND name IN (?, ?)",
      {r.org, r.project, r.domain, r.name, std::string(kRootActionName), *action.parent});
  if (!rows.ok()) return rows.status();
  bool run = false, parent = false;
  for (const Row& row : *rows) {
    run |= row.Str(0) == kRootActionName;
    parent |= row.Str(0) == *action.parent;
  }
  if (!run) return absl::NotFoundError("run " + r.name + " not found");
  if (!parent) return absl::NotFoundError("parent action " + *action.parent + " not found");
  return Insert(tx, action, changes);
}

absl::StatusOr<Action> SqlActionRepository::Get(const ActionKey& key) {
  std::optional<Action> out;
  absl::Status s = db_.ReadStatement("GetAction", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<Action>> a = LoadAction(tx, key, false);
    if (!a.ok()) return a.status();
    out = std::move(*a);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return NotFound(key);
  return *std::move(out);
}

absl::StatusOr<std::vector<Action>> SqlActionRepository::GetMany(const RunKey& run,
                                                                 const std::vector<std::string>& names) {
  constexpr size_t kChunk = 200;  // bound parameters per statement
  std::vector<Action> out;
  absl::Status s = db_.Read("GetActions", [&](Tx& tx) -> absl::Status {
    out.clear();
    for (size_t first = 0; first < names.size(); first += kChunk) {
      const size_t last = std::min(names.size(), first + kChunk);
      // No ORDER BY: an order would let the planner walk an index over every sibling instead of the key.
      std::string sql = std::string("SELECT ") + kActionCols +
                        " FROM actions WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND name IN (";
      std::vector<Value> params{run.org, run.project, run.domain, run.name};
      for (size_t i = first; i < last; ++i) {
        sql += i == first ? "?" : ", ?";
        params.push_back(names[i]);
      }
      sql += ")";
      absl::StatusOr<Rows> rows = tx.Query(sql, params);
      if (!rows.ok()) return rows.status();
      for (const Row& r : *rows) out.push_back(ActionFromRow(r));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<ActionWithAttempts> SqlActionRepository::GetWithAttempts(const ActionKey& key) {
  std::optional<ActionWithAttempts> out;
  absl::Status s = db_.Read("GetActionWithAttempts", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<Action>> a = LoadAction(tx, key, false);
    if (!a.ok()) return a.status();
    if (!*a) return absl::OkStatus();
    ActionWithAttempts result{std::move(**a), {}};
    const std::vector<Value> k = KeyParams(key);
    absl::StatusOr<Rows> attempts =
        tx.Query(std::string("SELECT ") + kAttemptFields +
                     " FROM action_attempts WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND "
                     "action_name = ? ORDER BY attempt",
                 k);
    if (!attempts.ok()) return attempts.status();
    for (const Row& r : *attempts) {
      absl::StatusOr<Attempt> at = AttemptAt(r, 0);
      if (!at.ok()) return at.status();
      result.attempts.push_back(*std::move(at));
    }
    out = std::move(result);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return NotFound(key);
  return *std::move(out);
}

absl::StatusOr<Page<Action>> SqlActionRepository::List(const ListQuery& q) {
  std::string sql = std::string("SELECT ") + kActionCols + " FROM actions WHERE org = ?";
  std::vector<Value> params{q.org};
  if (!q.project.empty()) {
    sql += " AND project = ?";
    params.push_back(q.project);
  }
  if (!q.domain.empty()) {
    sql += " AND domain = ?";
    params.push_back(q.domain);
  }
  if (q.run_name) {
    sql += " AND run_name = ?";
    params.push_back(*q.run_name);
  }
  if (q.roots_only) sql += " AND parent_name IS NULL";
  if (q.parent) {
    sql += " AND parent_name = ?";
    params.push_back(*q.parent);
  }
  absl::Status s = AppendFiltersAndOrder(
      postgres(), q, [&](Field f) { return ActionColumn(f, q.roots_only); }, "created_at DESC", "run_name ASC, name ASC", sql,
      params);
  if (!s.ok()) return s;
  Page<Action> page;
  s = db_.Read(q.roots_only ? "ListRuns" : "ListActions", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    page.items.clear();
    for (const Row& r : *rows) page.items.push_back(ActionFromRow(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  SetNextOffset(q, page);
  return page;
}

absl::StatusOr<Action> SqlActionRepository::ApplyEvent(const ActionKey& key, const ActionEvent& ev) {
  std::vector<absl::StatusOr<Action>> out = ApplyEvents({KeyedEvent{key, ev}});
  return std::move(out.front());
}

namespace {

// The attempt (KeyParams of its action, then its number) ends ABORTED at `at`: its row's phase and end, and its
// phase history (whatever entry is still open closed at `at`, then an ABORTED entry).
absl::Status AbortAttempt(Tx& tx, const std::vector<Value>& attempt_key, int64_t at) {
  absl::StatusOr<Rows> rows =
      tx.Query(std::string("SELECT phase_history FROM action_attempts WHERE ") + kAttemptWhere, attempt_key);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<PhaseTransition>> history = DecodePhaseHistory(rows->front().Str(0));
  if (!history.ok()) return history.status();
  const TimePoint end = common::FromUnixMicros(at);
  for (PhaseTransition& t : *history) {
    if (!t.end_time) t.end_time = end;
  }
  history->push_back(PhaseTransition{Phase::kAborted, end, end});
  std::vector<Value> p = {int64_t{static_cast<int>(Phase::kAborted)}, at, EncodePhaseHistory(*history)};
  p.insert(p.end(), attempt_key.begin(), attempt_key.end());
  return tx
      .Exec(std::string("UPDATE action_attempts SET phase = ?, end_time = ?, phase_history = ? WHERE ") +
                kAttemptWhere,
            p)
      .status();
}

}  // namespace

// The events are applied in order in one transaction: loaded together, worked out in memory (event_plan.h), then
// written together (sql_event_batch.h). An event that is refused (kNotFound, kFailedPrecondition) changes nothing
// and gets its status in place; anything else fails the whole batch. On PostgreSQL, reports on one action this
// process wrote last skip the locked reads (ApplyToRememberedRow).
std::vector<absl::StatusOr<Action>> SqlActionRepository::ApplyEvents(const std::vector<KeyedEvent>& events) {
  if (postgres() && !events.empty()) {
    if (std::optional<std::vector<absl::StatusOr<Action>>> out = ApplyToRememberedRow(events)) return *std::move(out);
  }
  std::vector<absl::StatusOr<Action>> out;
  EventPlan written;
  const MutateFn apply = [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    absl::StatusOr<ActionsByKey> actions = LoadActionsForEvents(tx, events);
    if (!actions.ok()) return actions.status();
    absl::StatusOr<AttemptsById> attempts = LoadAttempts(tx, AttemptsToLoad(events, *actions));
    if (!attempts.ok()) return attempts.status();
    EventPlan plan = PlanEvents(events, std::move(*actions), std::move(*attempts));
    if (absl::Status w = WritePlan(tx, plan, change_origin_); !w.ok()) return w;
    changes = plan.changes;
    out = std::move(plan.results);  // the unit may be retried on a fresh connection: set on every try
    written = std::move(plan);
    return absl::OkStatus();
  };
  const absl::Status s = MutateLoggingItself("ApplyEvents", apply);
  if (!s.ok()) {
    out.assign(events.size(), s);
  } else if (postgres()) {
    recent_rows_.Remember(written);
  }
  return out;
}

// Events that all name one action whose row (and the attempt rows they need) this process remembers, and that the
// remembered row accepts: planned on it and written in one statement, no reads, no locks, no BEGIN or COMMIT, if
// the stored version is still the remembered one. nullopt (nothing written) sends the batch down the locked path:
// no such row, an event it refuses (checked again on the stored row), or a version that moved on (another replica,
// an abort); a non-OK status of that one statement is every event's outcome only when it may have committed.
std::optional<std::vector<absl::StatusOr<Action>>> SqlActionRepository::ApplyToRememberedRow(
    const std::vector<KeyedEvent>& events) {
  const ActionKey& key = events.front().key;
  for (const KeyedEvent& e : events) {
    if (!(e.key == key)) return std::nullopt;
  }
  std::optional<RecentActionRows::Entry> row = recent_rows_.Find(key);
  if (!row) return std::nullopt;
  ActionsByKey actions;
  actions.emplace(key, *row->action);
  AttemptsById attempts;
  for (const AttemptId& id : AttemptsToLoad(events, actions)) {
    auto it = row->attempts.find(id);
    if (it == row->attempts.end()) return std::nullopt;
    attempts.insert(*it);
  }
  EventPlan plan = PlanEvents(events, std::move(actions), std::move(attempts));
  for (const absl::StatusOr<Action>& r : plan.results) {
    if (!r.ok()) return std::nullopt;
  }
  bool written = false;
  const absl::Status s = db_.WriteStatement("ApplyEvents", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<bool> w = WriteOneActionIfUnchanged(tx, plan, row->action->version, change_origin_);
    if (!w.ok()) return w.status();
    written = *w;
    return absl::OkStatus();
  });
  if (!s.ok() || !written) {
    recent_rows_.Forget(key);
    if (s.code() == absl::StatusCode::kUnavailable) return std::vector<absl::StatusOr<Action>>(events.size(), s);
    return std::nullopt;
  }
  recent_rows_.Remember(plan);
  Committed(plan.changes);
  return std::move(plan.results);
}

absl::StatusOr<std::vector<ActionKey>> SqlActionRepository::Abort(const ActionKey& key, const std::string& reason,
                                                                 TimePoint now) {
  std::vector<ActionKey> changed;
  absl::Status s = Mutate("Abort", [&](Tx& tx, std::vector<ActionChange>& changes) -> absl::Status {
    return AbortIn(tx, key, reason, now, changes, changed);
  });
  if (!s.ok()) return s;
  return changed;
}

// The body of Abort, shared with AbortAndRecord (sql_queue_outbox.cc), which adds its outbox row to the same unit.
absl::Status SqlActionRepository::AbortIn(Tx& tx, const ActionKey& key, const std::string& reason, TimePoint now,
                                          std::vector<ActionChange>& changes, std::vector<ActionKey>& changed) {
  changed.clear();
  const RunKey& r = key.run;
  std::string sql =
      "WITH RECURSIVE sub(name) AS ("
      " SELECT name FROM actions WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND name = ?"
      " UNION ALL"
      " SELECT a.name FROM actions a JOIN sub ON a.parent_name = sub.name"
      " WHERE a.org = ? AND a.project = ? AND a.domain = ? AND a.run_name = ?)"
      " SELECT a.name, a.parent_name, a.phase, a.attempts, a.version FROM actions a JOIN sub ON a.name = sub.name"
      " WHERE a.org = ? AND a.project = ? AND a.domain = ? AND a.run_name = ?";
  if (postgres()) sql += " FOR UPDATE OF a";
  absl::StatusOr<Rows> rows = tx.Query(sql, {r.org, r.project, r.domain, r.name, key.name, r.org, r.project,
                                             r.domain, r.name, r.org, r.project, r.domain, r.name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound(key);
  const int64_t at = Micros(now);
  const int64_t aborted = static_cast<int>(Phase::kAborted);
  for (const Row& row : *rows) {
    if (IsTerminal(static_cast<Phase>(row.Int(2)))) continue;
    ActionKey k{r, row.Str(0)};
    std::vector<Value> p = {aborted, reason, at, at, at};
    std::vector<Value> kp = KeyParams(k);
    p.insert(p.end(), kp.begin(), kp.end());
    absl::StatusOr<int64_t> n = tx.Exec(
        std::string("UPDATE actions SET phase = ?, abort_reason = ?, updated_at = ?, ended_at = ?, "
                    "started_at = COALESCE(started_at, ?), version = version + 1 WHERE ") +
            kKeyWhere,
        p);
    if (!n.ok()) return n.status();
    const int64_t attempts = row.Int(3);
    if (attempts > 0) {
      std::vector<Value> ak = kp;
      ak.push_back(attempts);
      if (absl::Status t = AbortAttempt(tx, ak, at); !t.ok()) return t;
    }
    changes.push_back(ActionChange{k, row.OptStr(1), row.Int(4) + 1});
    changed.push_back(std::move(k));
  }
  return absl::OkStatus();
}

// ---- SqlTaskRepository --------------------------------------------------------------------------------------

absl::Status SqlTaskRepository::Deploy(const Task& t) {
  return db_.Write("DeployTask", [&](Tx& tx) -> absl::Status {
    return tx
        .Exec(
            "INSERT INTO tasks (org, project, domain, name, version, spec, short_name, environment, task_type, "
            "deployed_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (org, project, domain, name, version) DO UPDATE SET spec = excluded.spec, "
            "short_name = excluded.short_name, environment = excluded.environment, task_type = excluded.task_type, "
            "deployed_by = excluded.deployed_by, updated_at = excluded.updated_at",
            {t.key.org, t.key.project, t.key.domain, t.key.name, t.key.version, Bytes{t.spec}, t.short_name,
             t.environment, t.task_type, t.deployed_by, Micros(t.created_at), Micros(t.updated_at)})
        .status();
  });
}

absl::StatusOr<Task> SqlTaskRepository::Get(const TaskKey& key) {
  std::optional<Task> out;
  absl::Status s = db_.Read("GetTask", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(
        std::string("SELECT ") + kTaskCols +
            " FROM tasks t WHERE t.org = ? AND t.project = ? AND t.domain = ? AND t.name = ? AND t.version = ?",
        {key.org, key.project, key.domain, key.name, key.version});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) out = TaskFromRow(rows->front());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return absl::NotFoundError("task " + key.name + " version " + key.version + " not found");
  return *std::move(out);
}

absl::StatusOr<Page<Task>> SqlTaskRepository::ListWhere(std::string_view op, std::string where,
                                                        std::vector<Value> params, const ListQuery& q,
                                                        bool versions) {
  std::string sql = std::string("SELECT ") + kTaskCols + " FROM tasks t WHERE " + where;
  absl::Status s = AppendFiltersAndOrder(db_.dialect() == db::Dialect::kPostgres, q, TaskColumn, "t.created_at DESC",
                                         versions ? "t.version DESC" : "t.name ASC, t.version DESC", sql, params);
  if (!s.ok()) return s;
  Page<Task> page;
  s = db_.Read(op, [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    page.items.clear();
    for (const Row& r : *rows) page.items.push_back(TaskFromRow(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  SetNextOffset(q, page);
  return page;
}

absl::StatusOr<Page<Task>> SqlTaskRepository::ListLatest(const ListQuery& q) {
  std::string where = "t.org = ?";
  std::vector<Value> params{q.org};
  if (!q.project.empty()) {
    where += " AND t.project = ?";
    params.push_back(q.project);
  }
  if (!q.domain.empty()) {
    where += " AND t.domain = ?";
    params.push_back(q.domain);
  }
  where +=
      " AND NOT EXISTS (SELECT 1 FROM tasks n WHERE n.org = t.org AND n.project = t.project AND "
      "n.domain = t.domain AND n.name = t.name AND (n.created_at > t.created_at OR "
      "(n.created_at = t.created_at AND n.version > t.version)))";
  return ListWhere("ListTasks", std::move(where), std::move(params), q, false);
}

absl::StatusOr<Page<Task>> SqlTaskRepository::ListVersions(const TaskKey& name_only, const ListQuery& q) {
  return ListWhere("ListTaskVersions", "t.org = ? AND t.project = ? AND t.domain = ? AND t.name = ?",
                   {name_only.org, name_only.project, name_only.domain, name_only.name}, q, true);
}

}  // namespace flyte::runs
