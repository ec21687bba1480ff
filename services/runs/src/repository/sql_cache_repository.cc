#include "repository/sql_cache_repository.h"

#include <optional>

#include "repository/sql_common.h"

namespace flyte::runs {
namespace {

constexpr char kEntryCols[] = "scope, cache_key, output_uri, output_literals, metadata, created_at, updated_at";

std::string Describe(const CacheEntryKey& id) {
  return "cache entry " + id.key + (id.scope.empty() ? "" : " (scope " + id.scope + ")");
}

CachedOutputRecord EntryFromRow(const Row& r) {
  CachedOutputRecord e;
  e.id = CacheEntryKey{r.Str(0), r.Str(1)};
  e.output_uri = r.Str(2);
  e.output_literals = r.Str(3);
  e.metadata = r.Str(4);
  e.created_at = common::FromUnixMicros(r.Int(5));
  e.updated_at = common::FromUnixMicros(r.Int(6));
  return e;
}

}  // namespace

absl::StatusOr<CachedOutputRecord> SqlCacheRepository::Get(const CacheEntryKey& id) {
  std::optional<CachedOutputRecord> out;
  absl::Status s = db_.Read("GetCacheEntry", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(
        std::string("SELECT ") + kEntryCols + " FROM cache_entries WHERE scope = ? AND cache_key = ?", {id.scope, id.key});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) out = EntryFromRow(rows->front());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return absl::NotFoundError(Describe(id) + " not found");
  return *std::move(out);
}

absl::Status SqlCacheRepository::Put(const CachedOutputRecord& e, bool overwrite) {
  // One statement either way: a concurrent Put of the same key cannot slip between a read and a write.
  const std::string sql =
      std::string("INSERT INTO cache_entries (") + kEntryCols + ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, cache_key) " +
      (overwrite ? "DO UPDATE SET output_uri = excluded.output_uri, output_literals = excluded.output_literals, "
                   "metadata = excluded.metadata, updated_at = excluded.updated_at"
                 : "DO NOTHING");
  int64_t written = 0;
  absl::Status s = db_.Write("PutCacheEntry", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(sql, {e.id.scope, e.id.key, e.output_uri, Bytes{e.output_literals},
                                              Bytes{e.metadata}, Micros(e.created_at), Micros(e.updated_at)});
    if (!n.ok()) return n.status();
    written = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (written == 0) return absl::AlreadyExistsError(Describe(e.id) + " already exists (set overwrite to replace it)");
  return absl::OkStatus();
}

absl::Status SqlCacheRepository::Delete(const CacheEntryKey& id) {
  int64_t deleted = 0;
  absl::Status s = db_.Write("DeleteCacheEntry", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec("DELETE FROM cache_entries WHERE scope = ? AND cache_key = ?", {id.scope, id.key});
    if (!n.ok()) return n.status();
    deleted = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (deleted == 0) return absl::NotFoundError(Describe(id) + " not found");
  return absl::OkStatus();
}

absl::StatusOr<CacheReservation> SqlCacheRepository::GetOrExtendReservation(const CacheReservation& w,
                                                                            common::TimePoint now) {
  std::optional<CacheReservation> out;
  absl::Status s = db_.Write("GetOrExtendCacheReservation", [&](Tx& tx) -> absl::Status {
    // Taken over only when free, expired or already ours; the row lock of the upsert orders concurrent callers.
    absl::StatusOr<int64_t> n = tx.Exec(
        "INSERT INTO cache_reservations (scope, cache_key, owner_id, heartbeat_ms, expires_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (scope, cache_key) DO UPDATE SET owner_id = excluded.owner_id, "
        "heartbeat_ms = excluded.heartbeat_ms, expires_at = excluded.expires_at "
        "WHERE cache_reservations.owner_id = excluded.owner_id OR cache_reservations.expires_at <= ?",
        {w.id.scope, w.id.key, w.owner_id, int64_t{w.heartbeat_interval.count()}, Micros(w.expires_at), Micros(now)});
    if (!n.ok()) return n.status();
    absl::StatusOr<Rows> rows =
        tx.Query("SELECT owner_id, heartbeat_ms, expires_at FROM cache_reservations WHERE scope = ? AND cache_key = ?",
                 {w.id.scope, w.id.key});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::InternalError("reservation of " + Describe(w.id) + " vanished");
    const Row& r = rows->front();
    out = CacheReservation{w.id, r.Str(0), std::chrono::milliseconds(r.Int(1)), common::FromUnixMicros(r.Int(2))};
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return *std::move(out);
}

absl::Status SqlCacheRepository::ReleaseReservation(const CacheEntryKey& id, const std::string& owner_id) {
  std::optional<std::string> holder;
  absl::Status s = db_.Write("ReleaseCacheReservation", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        "DELETE FROM cache_reservations WHERE scope = ? AND cache_key = ? AND owner_id = ?", {id.scope, id.key, owner_id});
    if (!n.ok()) return n.status();
    if (*n > 0) return absl::OkStatus();
    absl::StatusOr<Rows> rows =
        tx.Query("SELECT owner_id FROM cache_reservations WHERE scope = ? AND cache_key = ?", {id.scope, id.key});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) holder = rows->front().Str(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (holder) {
    return absl::FailedPreconditionError("reservation of " + Describe(id) + " is held by " + *holder + ", not " +
                                         owner_id);
  }
  return absl::OkStatus();
}

}  // namespace flyte::runs
