#include "service/cache_use_cases.h"

#include <algorithm>

namespace flyte::runs {
namespace {

absl::Status CheckKey(const CacheEntryKey& id) {
  if (id.key.empty()) return absl::InvalidArgumentError("key is required");
  return absl::OkStatus();
}

absl::Status CheckOwner(const std::string& owner_id) {
  if (owner_id.empty()) return absl::InvalidArgumentError("owner_id is required");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CachedOutputRecord> CacheUseCases::Get(const CacheEntryKey& id) {
  if (absl::Status s = CheckKey(id); !s.ok()) return s;
  return store_.Get(id);
}

absl::Status CacheUseCases::Put(CachedOutputRecord entry, bool overwrite) {
  if (absl::Status s = CheckKey(entry.id); !s.ok()) return s;
  if (entry.output_uri.empty() && entry.output_literals.empty()) {
    return absl::InvalidArgumentError("output: one of output_uri or output_literals is required");
  }
  entry.created_at = entry.updated_at = clock_.Now();
  return store_.Put(entry, overwrite);
}

absl::Status CacheUseCases::Delete(const CacheEntryKey& id) {
  if (absl::Status s = CheckKey(id); !s.ok()) return s;
  return store_.Delete(id);
}

absl::StatusOr<CacheReservation> CacheUseCases::GetOrExtendReservation(const CacheEntryKey& id,
                                                                       const std::string& owner_id,
                                                                       std::chrono::milliseconds heartbeat) {
  if (absl::Status s = CheckKey(id); !s.ok()) return s;
  if (absl::Status s = CheckOwner(owner_id); !s.ok()) return s;
  if (heartbeat.count() < 0) return absl::InvalidArgumentError("heartbeat_interval must not be negative");
  if (heartbeat.count() == 0) heartbeat = options_.default_heartbeat;
  heartbeat = std::min(heartbeat, options_.max_heartbeat);
  const common::TimePoint now = clock_.Now();
  return store_.GetOrExtendReservation(CacheReservation{id, owner_id, heartbeat, now + heartbeat * kReservationGraceBeats},
                                       now);
}

absl::Status CacheUseCases::ReleaseReservation(const CacheEntryKey& id, const std::string& owner_id) {
  if (absl::Status s = CheckKey(id); !s.ok()) return s;
  if (absl::Status s = CheckOwner(owner_id); !s.ok()) return s;
  return store_.ReleaseReservation(id, owner_id);
}

}  // namespace flyte::runs
