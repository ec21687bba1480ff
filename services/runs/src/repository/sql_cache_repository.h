#pragma once
// CacheRepository on flyte::db (tables `cache_entries` and `cache_reservations`), the same SQL for SQLite and
// PostgreSQL. Thread-safe.
#include "flyte/db/database.h"
#include "repository/cache_repository.h"

namespace flyte::runs {

class SqlCacheRepository final : public CacheRepository {
 public:
  explicit SqlCacheRepository(db::Database& db) : db_(db) {}
  absl::StatusOr<CachedOutputRecord> Get(const CacheEntryKey& id) override;
  absl::Status Put(const CachedOutputRecord& entry, bool overwrite) override;
  absl::Status Delete(const CacheEntryKey& id) override;
  absl::StatusOr<CacheReservation> GetOrExtendReservation(const CacheReservation& wanted,
                                                          common::TimePoint now) override;
  absl::Status ReleaseReservation(const CacheEntryKey& id, const std::string& owner_id) override;

 private:
  db::Database& db_;
};

}  // namespace flyte::runs
