#pragma once
// ProjectRepository and SecretRepository on flyte::db (tables `projects` and `service_secrets`), the same SQL
// for SQLite and PostgreSQL. Thread-safe.
#include "flyte/db/database.h"
#include "repository/project_repository.h"

namespace flyte::runs {

class SqlProjectRepository final : public ProjectRepository {
 public:
  explicit SqlProjectRepository(db::Database& db) : db_(db) {}
  absl::Status Create(const ProjectRecord& p) override;
  absl::Status Update(const ProjectRecord& p) override;
  absl::StatusOr<ProjectRecord> Get(const std::string& id) override;
  absl::StatusOr<std::vector<ProjectRecord>> List() override;

 private:
  db::Database& db_;
};

class SqlSecretRepository final : public SecretRepository {
 public:
  explicit SqlSecretRepository(db::Database& db) : db_(db) {}
  absl::StatusOr<std::string> GetOrCreate(const std::string& name, const std::string& candidate) override;

 private:
  db::Database& db_;
};

}  // namespace flyte::runs
