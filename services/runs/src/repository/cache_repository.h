#pragma once
// Persistence port for CacheService (flyteidl2.cacheservice): task outputs stored under a cache key, and the
// reservations that let one of several identical actions compute a missing entry while the others wait. In the
// runs database, so every replica sees the same entries. Implemented once in SQL (sql_cache_repository.h) for
// SQLite and PostgreSQL; one conformance suite (tests/cache_repository_conformance_test.cc).
//
// Entries and reservations are keyed by (scope, key): the scope is what the caller's identifier says
// ("org/project/domain" for CacheService v2, "" for v1), the key what the client computed.
//
// Thread-safe. Never throw. Errors: kNotFound, kAlreadyExists (Put of an existing entry without overwrite),
// kFailedPrecondition (releasing another owner's reservation), kUnavailable (database unreachable), kInternal.
#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"

namespace flyte::runs {

struct CacheEntryKey {
  std::string scope;
  std::string key;
  bool operator==(const CacheEntryKey&) const = default;
};

struct CachedOutputRecord {
  CacheEntryKey id;
  std::string output_uri;       // where the outputs are (file://...), when they are not inline
  std::string output_literals;  // serialized flyteidl2.core.LiteralMap ("" = none)
  std::string metadata;         // serialized flyteidl2.cacheservice.Metadata (source, key map), verbatim
  common::TimePoint created_at{};
  common::TimePoint updated_at{};
  bool operator==(const CachedOutputRecord&) const = default;
};

struct CacheReservation {
  CacheEntryKey id;
  std::string owner_id;
  std::chrono::milliseconds heartbeat_interval{0};
  common::TimePoint expires_at{};
  bool operator==(const CacheReservation&) const = default;
};

class CacheRepository {
 public:
  virtual ~CacheRepository() = default;
  virtual absl::StatusOr<CachedOutputRecord> Get(const CacheEntryKey& id) = 0;  // kNotFound
  // Stores the entry. An existing one is kAlreadyExists unless `overwrite`, which replaces it (its created_at is
  // kept).
  virtual absl::Status Put(const CachedOutputRecord& entry, bool overwrite) = 0;
  virtual absl::Status Delete(const CacheEntryKey& id) = 0;  // kNotFound
  // The reservation of `wanted.id` after the call: `wanted` itself when there was none, when the one there had
  // expired (expires_at <= now) or belonged to the same owner (extended); otherwise the current holder's,
  // unchanged. Concurrent callers for one id: exactly one of them gets it.
  virtual absl::StatusOr<CacheReservation> GetOrExtendReservation(const CacheReservation& wanted,
                                                                  common::TimePoint now) = 0;
  // Removes `owner_id`'s reservation. OK when there is none; kFailedPrecondition when another owner holds it.
  virtual absl::Status ReleaseReservation(const CacheEntryKey& id, const std::string& owner_id) = 0;
};

}  // namespace flyte::runs
