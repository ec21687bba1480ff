#pragma once
// UserSecretRepository on flyte::db (table `user_secrets`), the same SQL for SQLite and PostgreSQL. Thread-safe.
#include "flyte/db/database.h"
#include "repository/user_secret_repository.h"

namespace flyte::runs {

class SqlUserSecretRepository final : public UserSecretRepository {
 public:
  explicit SqlUserSecretRepository(db::Database& db) : db_(db) {}
  absl::Status Create(const UserSecretRecord& secret) override;
  absl::Status Update(const UserSecretRecord& secret) override;
  absl::StatusOr<UserSecretRecord> Get(const UserSecretKey& id) override;
  absl::Status Delete(const UserSecretKey& id) override;
  absl::StatusOr<std::vector<UserSecretRecord>> List(const std::string& org, const std::string& project,
                                                     const std::string& domain, const std::string& after_name,
                                                     int limit) override;

 private:
  db::Database& db_;
};

}  // namespace flyte::runs
