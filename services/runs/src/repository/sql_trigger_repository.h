#pragma once
// TriggerRepository on flyte::db (tables `triggers` and `service_leases`), the same SQL for SQLite and
// PostgreSQL. Thread-safe.
#include "flyte/db/database.h"
#include "repository/trigger_repository.h"

namespace flyte::runs {

class SqlTriggerRepository final : public TriggerRepository {
 public:
  explicit SqlTriggerRepository(db::Database& db) : db_(db) {}
  absl::StatusOr<Trigger> Deploy(const Trigger& trigger) override;
  absl::StatusOr<Trigger> Get(const TriggerKey& key) override;
  absl::StatusOr<std::vector<Trigger>> List(const TriggerScope& scope, int offset, int limit) override;
  absl::Status SetActive(const TriggerKey& key, bool active, std::optional<common::TimePoint> next_fire_at,
                         common::TimePoint now) override;
  absl::Status Delete(const TriggerKey& key) override;
  absl::StatusOr<std::vector<Trigger>> ListDue(common::TimePoint now, int limit) override;
  absl::StatusOr<bool> RecordFired(const TriggerKey& key, int64_t revision, common::TimePoint fired,
                                   std::optional<common::TimePoint> next) override;
  absl::StatusOr<bool> TryAcquireLease(const std::string& name, const std::string& holder, common::TimePoint now,
                                       common::TimePoint expires_at) override;
  absl::Status ReleaseLease(const std::string& name, const std::string& holder) override;

 private:
  db::Database& db_;
};

}  // namespace flyte::runs
