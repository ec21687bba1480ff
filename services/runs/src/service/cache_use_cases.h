#pragma once
// Use cases of flyteidl2.cacheservice.CacheService (v1 and v2) on plain types: cached task outputs by key, and
// reservations with expiry so one of several identical actions computes a missing entry while the others wait
// (a holder that stops heartbeating loses its reservation after heartbeat_interval x kReservationGraceBeats).
//
// Thread-safe. Errors: kInvalidArgument naming the field, kNotFound, kAlreadyExists (Put without overwrite of an
// existing entry), kFailedPrecondition (releasing someone else's reservation), kUnavailable/kInternal (store).
#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "repository/cache_repository.h"

namespace flyte::runs {

struct CacheOptions {
  std::chrono::milliseconds default_heartbeat{10000};  // when a reservation request gives none
  std::chrono::milliseconds max_heartbeat{600000};     // longer requests are clamped to this
};

// A reservation expires this many heartbeat intervals after its last extension.
inline constexpr int kReservationGraceBeats = 3;

class CacheUseCases {
 public:
  CacheUseCases(CacheRepository& store, common::Clock& clock, CacheOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  absl::StatusOr<CachedOutputRecord> Get(const CacheEntryKey& id);
  // entry.id.key and one of output_uri / output_literals are required; the times are set here.
  absl::Status Put(CachedOutputRecord entry, bool overwrite);
  absl::Status Delete(const CacheEntryKey& id);
  // heartbeat 0 = options.default_heartbeat; negative is kInvalidArgument.
  absl::StatusOr<CacheReservation> GetOrExtendReservation(const CacheEntryKey& id, const std::string& owner_id,
                                                          std::chrono::milliseconds heartbeat);
  absl::Status ReleaseReservation(const CacheEntryKey& id, const std::string& owner_id);

 private:
  CacheRepository& store_;
  common::Clock& clock_;
  const CacheOptions options_;
};

}  // namespace flyte::runs
