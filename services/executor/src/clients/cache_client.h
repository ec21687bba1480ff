#pragma once
// Port to runs-service's task output cache (flyteidl2.cacheservice.v2.CacheService): look an entry up, record
// one, and hold the reservation that lets one of several identical actions compute a missing entry.
//
// Thread-safe; calls block the calling thread. Errors: kNotFound (Get: no entry), kAlreadyExists (Put without
// overwrite of an existing entry), transport failures as kUnavailable / kDeadlineExceeded, and whatever else
// runs-service answers.
#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "runtime/action.h"
#include "runtime/cache_identity.h"

namespace flyte::executor {

struct CacheReservationHolder {
  std::string owner_id;
  common::TimePoint expires_at{};
};

class CacheClient {
 public:
  virtual ~CacheClient() = default;
  // The entry's output prefix (a file:// URI whose outputs.pb holds the outputs).
  virtual absl::StatusOr<std::string> Get(const CacheIdentity& id) = 0;
  // Records `output_uri` as the entry, naming `source` (the action that computed it) in its metadata.
  virtual absl::Status Put(const CacheIdentity& id, const std::string& output_uri, const ActionKey& source,
                           bool overwrite) = 0;
  // Who holds the reservation after the call (`owner_id` itself when it was free, expired or already its).
  virtual absl::StatusOr<CacheReservationHolder> Reserve(const CacheIdentity& id, const std::string& owner_id,
                                                         std::chrono::milliseconds heartbeat) = 0;
  virtual absl::Status Release(const CacheIdentity& id, const std::string& owner_id) = 0;
};

}  // namespace flyte::executor
