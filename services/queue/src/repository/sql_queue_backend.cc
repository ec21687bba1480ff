#include "repository/sql_queue_backend.h"

#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "flyte/db/array_param.h"

namespace flyte::queue {
namespace {

using common::FromUnixMicros;
using common::ToUnixMicros;

constexpr char kColumns[] =
    "id, org, project, domain, run_name, action_name, parent_name, payload, state, lease_id, lease_owner, "
    "lease_expires_at, delivery_count, abort_requested, abort_reason, enqueued_at, updated_at";

// kColumns, each prefixed with `alias.`.
std::string QualifiedColumns(const std::string& alias) {
  std::string out;
  for (absl::string_view c : absl::StrSplit(kColumns, ", ")) absl::StrAppend(&out, out.empty() ? "" : ", ", alias, ".", c);
  return out;
}

// An entry from kColumns starting at column `i`.
QueueEntry FromRow(const db::Row& r, size_t i = 0) {
  QueueEntry e;
  e.id = r.Int(i);
  e.key.run.org = r.Str(i + 1);
  e.key.run.project = r.Str(i + 2);
  e.key.run.domain = r.Str(i + 3);
  e.key.run.name = r.Str(i + 4);
  e.key.name = r.Str(i + 5);
  e.parent = r.OptStr(i + 6);
  e.payload = r.Str(i + 7);
  e.state = static_cast<EntryState>(r.Int(i + 8));
  e.lease_id = r.Str(i + 9);
  e.lease_owner = r.Str(i + 10);
  if (std::optional<int64_t> exp = r.OptInt(i + 11)) e.lease_expires_at = FromUnixMicros(*exp);
  e.delivery_count = static_cast<uint32_t>(r.Int(i + 12));
  e.abort_requested = r.Int(i + 13) != 0;
  e.abort_reason = r.Str(i + 14);
  e.enqueued_at = FromUnixMicros(r.Int(i + 15));
  e.updated_at = FromUnixMicros(r.Int(i + 16));
  return e;
}

std::vector<db::Value> RunParams(const RunKey& run) { return {run.org, run.project, run.domain, run.name}; }

constexpr char kInsertEntry[] =
    "INSERT INTO queue_entries (org, project, domain, run_name, action_name, parent_name, payload, state, "
    "enqueued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
    "ON CONFLICT (org, project, domain, run_name, action_name) DO NOTHING";

// 1 if the entry was new, 0 if its key was already queued.
absl::StatusOr<int64_t> InsertEntry(db::Tx& tx, const NewEntry& entry, int64_t t) {
  return tx.Exec(kInsertEntry, {entry.key.run.org, entry.key.run.project, entry.key.run.domain, entry.key.run.name,
                                entry.key.name, db::Nullable(entry.parent), db::Bytes{entry.payload}, t, t});
}

constexpr char kCompleteLease[] =
    "UPDATE queue_entries SET state = 2, lease_expires_at = NULL, updated_at = ? "
    "WHERE lease_id = ? AND lease_owner = ? AND state = 1";

absl::Status NotHeld(const std::string& executor, const std::string& lease_id) {
  return absl::FailedPreconditionError("lease " + lease_id + " is not held by executor " + executor);
}

// PostgreSQL: the entries in one statement (unnest of arrays), inserted in their order. `created` gets, per entry,
// whether it made the row: the first entry of a key that was not queued yet.
absl::Status InsertEntries(db::Tx& tx, const std::vector<NewEntry>& entries, int64_t t, std::vector<bool>& created) {
  db::PgArray org, project, domain, run, action, parent, payload;
  for (const NewEntry& e : entries) {
    org.Add(e.key.run.org);
    project.Add(e.key.run.project);
    domain.Add(e.key.run.domain);
    run.Add(e.key.run.name);
    action.Add(e.key.name);
    parent.Add(e.parent);
    payload.Add(absl::BytesToHexString(e.payload));
  }
  absl::StatusOr<db::Rows> rows = tx.Query(
      "INSERT INTO queue_entries (org, project, domain, run_name, action_name, parent_name, payload, state, "
      "enqueued_at, updated_at) SELECT org, project, domain, run_name, action_name, parent_name, "
      "decode(payload, 'hex'), 0, ?, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], "
      "?::text[], ?::text[]) WITH ORDINALITY AS u(org, project, domain, run_name, action_name, parent_name, "
      "payload, i) ORDER BY i "
      "ON CONFLICT (org, project, domain, run_name, action_name) DO NOTHING "
      "RETURNING org, project, domain, run_name, action_name",
      {t, t, org.ToValue(), project.ToValue(), domain.ToValue(), run.ToValue(), action.ToValue(), parent.ToValue(),
       payload.ToValue()});
  if (!rows.ok()) return rows.status();
  tx.CountInserted("queue_entries", static_cast<int64_t>(rows->size()));
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> made;
  for (const db::Row& r : *rows) made.emplace(r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4));
  for (const NewEntry& e : entries) {
    // erase: a key named twice was made by its first entry only.
    created.push_back(made.erase({e.key.run.org, e.key.run.project, e.key.run.domain, e.key.run.name, e.key.name}) > 0);
  }
  return absl::OkStatus();
}

}  // namespace

std::string NewLeaseId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi, lo;
  {
    std::lock_guard<std::mutex> lock(mu);
    hi = rng();
    lo = rng();
  }
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

absl::StatusOr<bool> SqlQueueBackend::Enqueue(const NewEntry& entry, TimePoint now) {
  int64_t inserted = 0;
  absl::Status s = db_->Write("queue.enqueue", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = InsertEntry(tx, entry, ToUnixMicros(now));
    if (!n.ok()) return n.status();
    inserted = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return inserted > 0;
}

absl::StatusOr<std::vector<bool>> SqlQueueBackend::EnqueueMany(const std::vector<NewEntry>& entries,
                                                               TimePoint now) {
  std::vector<bool> created;
  if (entries.empty()) return created;
  absl::Status s = db_->Write("queue.enqueue_many", [&](db::Tx& tx) -> absl::Status {
    created.clear();  // Write may retry on a broken connection
    const int64_t t = ToUnixMicros(now);
    if (postgres()) return InsertEntries(tx, entries, t, created);
    for (const NewEntry& entry : entries) {
      absl::StatusOr<int64_t> n = InsertEntry(tx, entry, t);
      if (!n.ok()) return n.status();
      created.push_back(*n > 0);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return created;
}

absl::StatusOr<int64_t> SqlQueueBackend::AbortRun(const RunKey& run, const std::string& reason, TimePoint now) {
  int64_t flagged = 0;
  absl::Status s = db_->Write("queue.abort_run", [&](db::Tx& tx) -> absl::Status {
    const std::vector<db::Value> params = {reason, ToUnixMicros(now), run.org, run.project, run.domain, run.name};
    absl::StatusOr<int64_t> n = tx.Exec(
        "UPDATE queue_entries SET abort_requested = 1, abort_reason = ?, "
        "state = CASE WHEN state = 0 THEN 2 ELSE state END, updated_at = ? "
        "WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND state <> 2",
        params);
    if (!n.ok()) return n.status();
    flagged = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return flagged;
}

absl::StatusOr<int64_t> SqlQueueBackend::AbortAction(const ActionKey& action, const std::string& reason,
                                                     TimePoint now) {
  int64_t flagged = 0;
  absl::Status s = db_->Write("queue.abort_action", [&](db::Tx& tx) -> absl::Status {
    std::vector<db::Value> key = RunParams(action.run);
    key.push_back(action.name);
    absl::StatusOr<db::Rows> found = tx.Query(
        "SELECT id FROM queue_entries WHERE org = ? AND project = ? AND domain = ? AND run_name = ? "
        "AND action_name = ?",
        key);
    if (!found.ok()) return found.status();
    if (found->empty()) return absl::NotFoundError("action " + action.ToString() + " is not queued");
    // The action and everything below it in the same run, following parent links.
    const RunKey& r = action.run;
    const std::vector<db::Value> params = {action.name, r.org,   r.project, r.domain, r.name, reason,
                                           ToUnixMicros(now), r.org, r.project, r.domain, r.name};
    // The seed takes the column's collation ("C" on PostgreSQL, migration 0002), as a recursive CTE requires.
    const std::string seed = postgres() ? "CAST(? AS TEXT) COLLATE \"C\"" : "CAST(? AS TEXT)";
    absl::StatusOr<int64_t> n = tx.Exec(
        "WITH RECURSIVE sub(name) AS ("
        "  SELECT " + seed +
        "  UNION SELECT q.action_name FROM queue_entries q JOIN sub ON q.parent_name = sub.name"
        "  WHERE q.org = ? AND q.project = ? AND q.domain = ? AND q.run_name = ?) "
        "UPDATE queue_entries SET abort_requested = 1, abort_reason = ?, "
        "state = CASE WHEN state = 0 THEN 2 ELSE state END, updated_at = ? "
        "WHERE org = ? AND project = ? AND domain = ? AND run_name = ? "
        "AND action_name IN (SELECT name FROM sub) AND state <> 2",
        params);
    if (!n.ok()) return n.status();
    flagged = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return flagged;
}

// SQLite: hands out `leased` (their new lease ids set) and finishes `dropped` (aborted entries whose lease
// expired), one row at a time.
absl::Status SqlQueueBackend::WriteLeases(db::Tx& tx, const std::vector<QueueEntry>& leased,
                                          const std::vector<int64_t>& dropped, const std::string& executor,
                                          int64_t expires, int64_t t) {
  if (!dropped.empty()) {
    absl::StatusOr<int64_t> n =
        tx.Exec("UPDATE queue_entries SET state = 2, lease_expires_at = NULL, updated_at = ? WHERE " +
                    db::IdIn(tx.dialect(), "id"),
                {t, db::IdsParam(tx.dialect(), dropped)});
    if (!n.ok()) return n.status();
  }
  for (const QueueEntry& e : leased) {
    absl::StatusOr<int64_t> n = tx.Exec(
        "UPDATE queue_entries SET state = 1, lease_id = ?, lease_owner = ?, lease_expires_at = ?, "
        "delivery_count = delivery_count + 1, updated_at = ? WHERE id = ?",
        {e.lease_id, executor, expires, t, e.id});
    if (!n.ok()) return n.status();
    if (*n != 1) return absl::InternalError("acquire: entry vanished while locked");
  }
  return absl::OkStatus();
}

absl::StatusOr<AcquireResult> SqlQueueBackend::Acquire(const std::string& executor, int max, TimePoint now,
                                                       std::chrono::milliseconds lease_duration) {
  AcquireResult result;
  if (max <= 0) return result;
  const int64_t t = ToUnixMicros(now);
  const int64_t expires = ToUnixMicros(now + lease_duration);
  if (postgres()) return AcquireInOneStatement(executor, max, t, expires);
  // SQLite: expired leases first (they were handed out before anything still ready), then ready entries, each in
  // id order, one query each (each matches one index).
  const std::string select_expired = std::string("SELECT ") + kColumns +
                                     " FROM queue_entries WHERE state = 1 AND lease_expires_at <= ? "
                                     "ORDER BY id LIMIT ?";
  const std::string select_ready =
      std::string("SELECT ") + kColumns + " FROM queue_entries WHERE state = 0 ORDER BY id LIMIT ?";
  // Idle executors poll often; a read (no writer lock) answers most of those polls. Anything found is re-checked
  // under the write below.
  bool any = false;
  absl::Status probe = db_->Read("queue.acquire_probe", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows = tx.Query(
        "SELECT id FROM queue_entries WHERE state = 0 "
        "UNION ALL SELECT id FROM queue_entries WHERE state = 1 AND lease_expires_at <= ? LIMIT 1", {t});
    if (!rows.ok()) return rows.status();
    any = !rows->empty();
    return absl::OkStatus();
  });
  if (!probe.ok()) return probe;
  if (!any) return result;
  absl::Status s = db_->Write("queue.acquire", [&](db::Tx& tx) -> absl::Status {
    result = AcquireResult{};  // Write may retry on a broken connection
    // Aborted entries whose lease expired are dropped rather than handed out, so one pass may come up short;
    // a few passes fill the batch without looping forever.
    for (int pass = 0; pass < 4 && static_cast<int>(result.leased.size()) < max; ++pass) {
      const int64_t room = max - static_cast<int>(result.leased.size());
      absl::StatusOr<db::Rows> rows = tx.Query(select_expired, {t, room});
      if (!rows.ok()) return rows.status();
      if (static_cast<int64_t>(rows->size()) < room) {
        absl::StatusOr<db::Rows> ready = tx.Query(select_ready, {room - static_cast<int64_t>(rows->size())});
        if (!ready.ok()) return ready.status();
        rows->insert(rows->end(), std::make_move_iterator(ready->begin()), std::make_move_iterator(ready->end()));
      }
      if (rows->empty()) break;
      std::vector<int64_t> dropped;
      std::vector<QueueEntry> leased;
      for (const db::Row& row : *rows) {
        QueueEntry e = FromRow(row);
        const bool expired = e.state == EntryState::kLeased;
        if (expired && e.abort_requested) {
          dropped.push_back(e.id);
          continue;
        }
        e.lease_id = NewLeaseId();
        e.lease_owner = executor;
        e.lease_expires_at = FromUnixMicros(expires);
        e.delivery_count += 1;
        e.state = EntryState::kLeased;
        e.updated_at = now;
        if (expired) ++result.expired_reclaimed;
        leased.push_back(std::move(e));
      }
      if (absl::Status w = WriteLeases(tx, leased, dropped, executor, expires, t); !w.ok()) return w;
      result.expired_dropped += static_cast<int64_t>(dropped.size());
      for (QueueEntry& e : leased) result.leased.push_back(std::move(e));
      const int64_t dropped_this_pass = static_cast<int64_t>(dropped.size());
      if (dropped_this_pass == 0) break;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

// PostgreSQL: Acquire as one statement that is its own transaction (one round trip; an idle poll finds nothing,
// locks nothing and writes nothing): expired leases of live entries, then ready entries, each in id order, locked
// with SKIP LOCKED so replicas claim disjoint rows, leased with fresh random ids; expired leases of aborted entries
// are finished (DONE) instead of handed out again. The leading row carries the dropped count (and no entry when
// nothing was leased).
absl::StatusOr<AcquireResult> SqlQueueBackend::AcquireInOneStatement(const std::string& executor, int max, int64_t t,
                                                                     int64_t expires) {
  // $n parameters, each used where it is needed: $1 now, $2 max, $3 executor, $4 expiry.
  static const std::string sql = std::string(
      "WITH expired AS (SELECT id FROM queue_entries WHERE state = 1 AND lease_expires_at <= $1 "
      "  AND abort_requested = 0 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED), "
      "ready AS (SELECT id FROM queue_entries WHERE state = 0 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED), "
      "picked AS (SELECT id, reclaimed FROM (SELECT id, true AS reclaimed FROM expired UNION ALL "
      "  SELECT id, false FROM ready) AS p ORDER BY reclaimed DESC, id LIMIT $2), "
      "dropped AS (UPDATE queue_entries SET state = 2, lease_expires_at = NULL, updated_at = $1 WHERE id IN ("
      "  SELECT id FROM queue_entries WHERE state = 1 AND lease_expires_at <= $1 AND abort_requested = 1 "
      "  LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING id), "
      "leased AS (UPDATE queue_entries AS q SET state = 1, lease_id = replace(gen_random_uuid()::text, '-', ''), "
      "  lease_owner = $3, lease_expires_at = $4, delivery_count = q.delivery_count + 1, updated_at = $1 "
      "  FROM picked WHERE q.id = picked.id RETURNING picked.reclaimed, ") +
      QualifiedColumns("q") + ") " +
      "SELECT (SELECT count(*) FROM dropped), leased.* FROM (SELECT 1) AS one LEFT JOIN leased ON true "
      "ORDER BY leased.reclaimed DESC, leased.id";
  AcquireResult result;
  absl::Status s = db_->WriteStatement("queue.acquire", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows = tx.Query(sql, {t, int64_t{max}, executor, expires});
    if (!rows.ok()) return rows.status();
    result = AcquireResult{};
    for (const db::Row& r : *rows) {
      result.expired_dropped = r.Int(0);
      if (r.IsNull(1)) continue;  // nothing leased
      if (r.Int(1) != 0) ++result.expired_reclaimed;
      result.leased.push_back(FromRow(r, 2));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<HeartbeatResult> SqlQueueBackend::Heartbeat(const std::string& executor,
                                                           const std::vector<std::string>& lease_ids, TimePoint now,
                                                           std::chrono::milliseconds lease_duration) {
  HeartbeatResult result;
  if (lease_ids.empty()) return result;
  const int64_t t = ToUnixMicros(now);
  const int64_t expires = ToUnixMicros(now + lease_duration);
  const std::string sql = std::string(
                              "UPDATE queue_entries SET lease_expires_at = ?, updated_at = ? "
                              "WHERE lease_id = ? AND lease_owner = ? AND state = 1 AND lease_expires_at > ? "
                              "RETURNING ") +
                          kColumns;
  absl::Status s = db_->Write("queue.heartbeat", [&](db::Tx& tx) -> absl::Status {
    result = HeartbeatResult{};
    for (const std::string& id : lease_ids) {
      absl::StatusOr<db::Rows> rows = tx.Query(sql, {expires, t, id, executor, t});
      if (!rows.ok()) return rows.status();
      if (rows->empty()) {
        result.lost_lease_ids.push_back(id);
      } else {
        result.renewed.push_back(FromRow(rows->front()));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

absl::Status SqlQueueBackend::Complete(const std::string& executor, const std::string& lease_id, TimePoint now) {
  return db_->Write("queue.complete", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(kCompleteLease, {ToUnixMicros(now), lease_id, executor});
    if (!n.ok()) return n.status();
    if (*n == 0) return NotHeld(executor, lease_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<absl::Status>> SqlQueueBackend::CompleteMany(const std::string& executor,
                                                                        const std::vector<std::string>& lease_ids,
                                                                        TimePoint now) {
  std::vector<absl::Status> outcomes;
  if (lease_ids.empty()) return outcomes;
  // PostgreSQL: one statement, its own transaction (no BEGIN/COMMIT round trips).
  auto write = [&](auto&& fn) {
    return postgres() ? db_->WriteStatement("queue.complete_many", fn) : db_->Write("queue.complete_many", fn);
  };
  absl::Status s = write([&](db::Tx& tx) -> absl::Status {
    outcomes.clear();  // Write may retry on a broken connection
    const int64_t t = ToUnixMicros(now);
    if (!postgres()) {
      for (const std::string& lease_id : lease_ids) {
        absl::StatusOr<int64_t> n = tx.Exec(kCompleteLease, {t, lease_id, executor});
        if (!n.ok()) return n.status();
        outcomes.push_back(*n == 0 ? NotHeld(executor, lease_id) : absl::OkStatus());
      }
      return absl::OkStatus();
    }
    // One statement for the batch; the leases it finished come back, the rest were not held.
    db::PgArray ids;
    for (const std::string& lease_id : lease_ids) ids.Add(lease_id);
    absl::StatusOr<db::Rows> done = tx.Query(
        "UPDATE queue_entries AS q SET state = 2, lease_expires_at = NULL, updated_at = ? "
        "FROM unnest(?::text[]) AS u(lease_id) WHERE q.lease_id = u.lease_id AND q.lease_owner = ? AND q.state = 1 "
        "RETURNING q.lease_id",
        {t, ids.ToValue(), executor});
    if (!done.ok()) return done.status();
    std::set<std::string> finished;
    for (const db::Row& r : *done) finished.insert(r.Str(0));
    for (const std::string& lease_id : lease_ids) {
      // A lease named twice is finished once: the repeat was no longer held, as one at a time.
      outcomes.push_back(finished.erase(lease_id) == 1 ? absl::OkStatus() : NotHeld(executor, lease_id));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return outcomes;
}

absl::Status SqlQueueBackend::Release(const std::string& executor, const std::string& lease_id, TimePoint now) {
  return db_->Write("queue.release", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        "UPDATE queue_entries SET state = CASE WHEN abort_requested = 1 THEN 2 ELSE 0 END, lease_id = NULL, "
        "lease_owner = NULL, lease_expires_at = NULL, updated_at = ? "
        "WHERE lease_id = ? AND lease_owner = ? AND state = 1",
        {ToUnixMicros(now), lease_id, executor});
    if (!n.ok()) return n.status();
    if (*n == 0) return NotHeld(executor, lease_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<QueueDepth> SqlQueueBackend::Depth() {
  QueueDepth depth;
  absl::Status s = db_->Read("queue.depth", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows = tx.Query("SELECT state, COUNT(*) FROM queue_entries GROUP BY state");
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) {
      switch (static_cast<EntryState>(r.Int(0))) {
        case EntryState::kReady:
          depth.ready = r.Int(1);
          break;
        case EntryState::kLeased:
          depth.leased = r.Int(1);
          break;
        case EntryState::kDone:
          depth.done = r.Int(1);
          break;
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return depth;
}

absl::StatusOr<QueueEntry> SqlQueueBackend::Get(const ActionKey& key) {
  std::optional<QueueEntry> entry;
  absl::Status s = db_->Read("queue.get", [&](db::Tx& tx) -> absl::Status {
    std::vector<db::Value> params = RunParams(key.run);
    params.push_back(key.name);
    absl::StatusOr<db::Rows> rows = tx.Query(
        std::string("SELECT ") + kColumns +
            " FROM queue_entries WHERE org = ? AND project = ? AND domain = ? AND run_name = ? AND action_name = ?",
        params);
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) entry = FromRow(rows->front());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!entry) return absl::NotFoundError("action " + key.ToString() + " is not queued");
  return *std::move(entry);
}

absl::StatusOr<std::vector<QueueEntry>> SqlQueueBackend::AbortedLeases(const std::optional<RunKey>& run,
                                                                       const std::string& executor) {
  std::vector<QueueEntry> out;
  absl::Status s = db_->Read("queue.aborted_leases", [&](db::Tx& tx) -> absl::Status {
    out.clear();
    // The payload is not needed to stop an action: an empty blob in its place keeps FromRow's layout.
    std::string sql = std::string("SELECT ") + kColumns + " FROM queue_entries WHERE state = 1 AND abort_requested = 1";
    absl::StrReplaceAll({{"payload", "'' AS payload"}}, &sql);
    std::vector<db::Value> params;
    if (run) {
      sql += " AND org = ? AND project = ? AND domain = ? AND run_name = ?";
      params = RunParams(*run);
    }
    if (!executor.empty()) {
      sql += " AND lease_owner = ?";
      params.push_back(executor);
    }
    absl::StatusOr<db::Rows> rows = tx.Query(sql + " ORDER BY id", params);
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) out.push_back(FromRow(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> SqlQueueBackend::DeleteDoneBefore(TimePoint before) {
  int64_t deleted = 0;
  absl::Status s = db_->Write("queue.cleanup", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n =
        tx.Exec("DELETE FROM queue_entries WHERE state = 2 AND updated_at < ?", {ToUnixMicros(before)});
    if (!n.ok()) return n.status();
    deleted = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return deleted;
}

}  // namespace flyte::queue
