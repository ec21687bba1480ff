#include "repository/sql_trigger_repository.h"

#include "absl/strings/str_cat.h"
#include "repository/sql_common.h"

namespace flyte::runs {
namespace {

constexpr char kCols[] =
    "org, project, domain, task_name, name, revision, task_version, spec, automation_spec, active, deployed_at, "
    "updated_at, triggered_at, next_fire_at";
constexpr char kWhereKey[] = " WHERE org = ? AND project = ? AND domain = ? AND task_name = ? AND name = ?";

std::string Describe(const TriggerKey& k) {
  return absl::StrCat("trigger ", k.name, " of task ", k.org, "/", k.project, "/", k.domain, "/", k.task_name);
}

std::vector<Value> KeyParams(const TriggerKey& k) { return {k.org, k.project, k.domain, k.task_name, k.name}; }

Trigger FromRow(const Row& r) {
  Trigger t;
  t.key = TriggerKey{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4)};
  t.revision = r.Int(5);
  t.task_version = r.Str(6);
  t.spec = r.Str(7);
  t.automation_spec = r.Str(8);
  t.active = r.Int(9) != 0;
  t.deployed_at = common::FromUnixMicros(r.Int(10));
  t.updated_at = common::FromUnixMicros(r.Int(11));
  t.triggered_at = OptTime(r, 12);
  t.next_fire_at = OptTime(r, 13);
  return t;
}

absl::StatusOr<std::optional<Trigger>> ReadOne(Tx& tx, const TriggerKey& key) {
  absl::StatusOr<Rows> rows = tx.Query(absl::StrCat("SELECT ", kCols, " FROM triggers", kWhereKey), KeyParams(key));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Trigger>();
  return std::optional<Trigger>(FromRow(rows->front()));
}

// The triggers a SELECT of kCols answers, in its order.
absl::StatusOr<std::vector<Trigger>> ReadTriggers(db::Database& db, const char* name, const std::string& sql,
                                                  const std::vector<Value>& params) {
  std::vector<Trigger> out;
  absl::Status s = db.Read(name, [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    out.clear();
    for (const Row& r : *rows) out.push_back(FromRow(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

// Runs a statement ending in kWhereKey (its parameters last); NOT_FOUND naming the trigger when no row matched.
absl::Status ChangeOne(db::Database& db, const char* name, const TriggerKey& key, const std::string& sql,
                       std::vector<Value> params) {
  for (Value& v : KeyParams(key)) params.push_back(std::move(v));
  int64_t changed = 0;
  absl::Status s = db.Write(name, [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(sql, params);
    if (!n.ok()) return n.status();
    changed = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (changed == 0) return absl::NotFoundError(Describe(key) + " not found");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Trigger> SqlTriggerRepository::Deploy(const Trigger& t) {
  std::optional<Trigger> out;
  absl::Status s = db_.Write("DeployTrigger", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        absl::StrCat("INSERT INTO triggers (", kCols,
                     ") VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, NULL, ?) "
                     "ON CONFLICT (org, project, domain, task_name, name) DO UPDATE SET "
                     "revision = triggers.revision + 1, task_version = excluded.task_version, spec = excluded.spec, "
                     "automation_spec = excluded.automation_spec, active = excluded.active, "
                     "updated_at = excluded.updated_at, next_fire_at = excluded.next_fire_at"),
        {t.key.org, t.key.project, t.key.domain, t.key.task_name, t.key.name, t.task_version, Bytes{t.spec},
         Bytes{t.automation_spec}, int64_t{t.active ? 1 : 0}, Micros(t.deployed_at), Micros(t.updated_at),
         OptMicros(t.next_fire_at)});
    if (!n.ok()) return n.status();
    absl::StatusOr<std::optional<Trigger>> row = ReadOne(tx, t.key);
    if (!row.ok()) return row.status();
    out = *std::move(row);
    return out ? absl::OkStatus() : absl::InternalError(Describe(t.key) + " vanished after its deploy");
  });
  if (!s.ok()) return s;
  return *std::move(out);
}

absl::StatusOr<Trigger> SqlTriggerRepository::Get(const TriggerKey& key) {
  std::optional<Trigger> out;
  absl::Status s = db_.Read("GetTrigger", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<Trigger>> row = ReadOne(tx, key);
    if (!row.ok()) return row.status();
    out = *std::move(row);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return absl::NotFoundError(Describe(key) + " not found");
  return *std::move(out);
}

absl::StatusOr<std::vector<Trigger>> SqlTriggerRepository::List(const TriggerScope& scope, int offset, int limit) {
  std::string sql = absl::StrCat("SELECT ", kCols, " FROM triggers WHERE 1 = 1");
  std::vector<Value> params;
  const std::pair<const char*, const std::string*> filters[] = {
      {"org", &scope.org},
      {"project", &scope.project},
      {"domain", &scope.domain},
      {"task_name", &scope.task_name},
      {"task_version", &scope.task_version}};
  for (const auto& [column, value] : filters) {
    if (value->empty()) continue;
    absl::StrAppend(&sql, " AND ", column, " = ?");
    params.emplace_back(*value);
  }
  absl::StrAppend(&sql, " ORDER BY org, project, domain, task_name, name");
  if (limit > 0) {
    absl::StrAppend(&sql, " LIMIT ? OFFSET ?");
    params.emplace_back(int64_t{limit});
    params.emplace_back(int64_t{offset});
  }
  return ReadTriggers(db_, "ListTriggers", sql, params);
}

absl::Status SqlTriggerRepository::SetActive(const TriggerKey& key, bool active,
                                             std::optional<common::TimePoint> next_fire_at, common::TimePoint now) {
  return ChangeOne(
      db_, "SetTriggerActive", key,
      absl::StrCat("UPDATE triggers SET active = ?, next_fire_at = ?, updated_at = ?, revision = revision + 1",
                   kWhereKey),
      {int64_t{active ? 1 : 0}, OptMicros(next_fire_at), Micros(now)});
}

absl::Status SqlTriggerRepository::Delete(const TriggerKey& key) {
  return ChangeOne(db_, "DeleteTrigger", key, absl::StrCat("DELETE FROM triggers", kWhereKey), {});
}

absl::StatusOr<std::vector<Trigger>> SqlTriggerRepository::ListDue(common::TimePoint now, int limit) {
  return ReadTriggers(db_,
                      "ListDueTriggers",
                      absl::StrCat("SELECT ", kCols,
                                   " FROM triggers WHERE active = 1 AND next_fire_at IS NOT NULL AND next_fire_at <= ? "
                                   "ORDER BY next_fire_at, org, project, domain, task_name, name LIMIT ?"),
                      {Micros(now), int64_t{limit}});
}

absl::StatusOr<bool> SqlTriggerRepository::RecordFired(const TriggerKey& key, int64_t revision,
                                                       common::TimePoint fired,
                                                       std::optional<common::TimePoint> next) {
  int64_t changed = 0;
  std::vector<Value> params = {Micros(fired), OptMicros(next)};
  for (Value& v : KeyParams(key)) params.push_back(std::move(v));
  params.emplace_back(revision);
  absl::Status s = db_.Write("RecordTriggerFired", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        absl::StrCat("UPDATE triggers SET triggered_at = ?, next_fire_at = ?", kWhereKey, " AND revision = ?"), params);
    if (!n.ok()) return n.status();
    changed = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return changed > 0;
}

absl::StatusOr<bool> SqlTriggerRepository::TryAcquireLease(const std::string& name, const std::string& holder,
                                                           common::TimePoint now, common::TimePoint expires_at) {
  int64_t written = 0;
  absl::Status s = db_.Write("AcquireLease", [&](Tx& tx) -> absl::Status {
    // The upsert's row lock orders racing callers; the WHERE lets only a free, expired or own lease change hands.
    absl::StatusOr<int64_t> n = tx.Exec(
        "INSERT INTO service_leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE service_leases.holder = excluded.holder OR service_leases.expires_at <= ?",
        {name, holder, Micros(expires_at), Micros(now)});
    if (!n.ok()) return n.status();
    written = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return written > 0;
}

absl::Status SqlTriggerRepository::ReleaseLease(const std::string& name, const std::string& holder) {
  return db_.Write("ReleaseLease", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n =
        tx.Exec("DELETE FROM service_leases WHERE name = ? AND holder = ?", {name, holder});
    return n.ok() ? absl::OkStatus() : n.status();
  });
}

}  // namespace flyte::runs
