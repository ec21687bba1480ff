#pragma once
// Persistence port for TriggerService and the trigger scheduler: triggers by (org, project, domain, task, name),
// and named leases with expiry (one scheduler among replicas). Implemented once in SQL (sql_trigger_repository.h)
// for SQLite and PostgreSQL; one conformance suite (tests/trigger_repository_conformance_test.cc).
//
// Thread-safe. Never throw. Errors: kNotFound (missing trigger), kUnavailable (database unreachable), kInternal.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/trigger.h"

namespace flyte::runs {

// Which triggers ListTriggers returns: every field that is non-empty must match.
struct TriggerScope {
  std::string org, project, domain, task_name, task_version;
};

class TriggerRepository {
 public:
  virtual ~TriggerRepository() = default;
  // Creates the trigger (revision 1) or replaces an existing one's spec, automation, task version, active flag and
  // next_fire_at (revision + 1; deployed_at and triggered_at kept). Returns what is stored.
  virtual absl::StatusOr<Trigger> Deploy(const Trigger& trigger) = 0;
  virtual absl::StatusOr<Trigger> Get(const TriggerKey& key) = 0;  // kNotFound
  // Ordered by (project, domain, task_name, name); `limit` 0 = all.
  virtual absl::StatusOr<std::vector<Trigger>> List(const TriggerScope& scope, int offset, int limit) = 0;
  // Sets the active flag and the next tick (revision + 1). kNotFound.
  virtual absl::Status SetActive(const TriggerKey& key, bool active, std::optional<common::TimePoint> next_fire_at,
                                 common::TimePoint now) = 0;
  virtual absl::Status Delete(const TriggerKey& key) = 0;  // kNotFound
  // Active triggers whose next tick is at or before `now`, oldest tick first, at most `limit`.
  virtual absl::StatusOr<std::vector<Trigger>> ListDue(common::TimePoint now, int limit) = 0;
  // Records that the tick `fired` was handled and `next` is due next, only if the trigger is still at
  // `revision` (a redeploy or deactivation in between wins). Returns whether it was recorded.
  virtual absl::StatusOr<bool> RecordFired(const TriggerKey& key, int64_t revision, common::TimePoint fired,
                                           std::optional<common::TimePoint> next) = 0;
  // Takes or renews the lease `name` for `holder` until `expires_at`: succeeds when nobody holds it, when it has
  // expired (expires_at <= now) or when `holder` holds it already. One conditional write, so of several callers
  // racing for a free lease exactly one gets it. Returns whether `holder` holds it after the call.
  virtual absl::StatusOr<bool> TryAcquireLease(const std::string& name, const std::string& holder,
                                               common::TimePoint now, common::TimePoint expires_at) = 0;
  // Gives the lease up if `holder` holds it (OK either way).
  virtual absl::Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
};

}  // namespace flyte::runs
