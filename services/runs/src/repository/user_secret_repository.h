#pragma once
// Persistence port for SecretService's secrets (flyteidl2.secret): a sealed (encrypted) value per
// (org, project, domain, name). The repository never sees a plaintext; SecretUseCases seals and opens. In the runs
// database; implemented once in SQL (sql_user_secret_repository.h) for SQLite and PostgreSQL; one conformance
// suite (tests/user_secret_repository_conformance_test.cc).
//
// Thread-safe. Never throw. Errors: kNotFound, kAlreadyExists, kUnavailable (database unreachable), kInternal.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"

namespace flyte::runs {

struct UserSecretKey {
  std::string org;
  std::string project;  // "" = every project of the org
  std::string domain;   // "" = every domain
  std::string name;
  bool operator==(const UserSecretKey&) const = default;
};

struct UserSecretRecord {
  UserSecretKey id;
  int type = 0;              // flyteidl2.secret.SecretType
  std::string sealed_value;  // common::SealAes256Gcm output
  common::TimePoint created_at{};
  bool operator==(const UserSecretRecord&) const = default;
};

class UserSecretRepository {
 public:
  virtual ~UserSecretRepository() = default;
  virtual absl::Status Create(const UserSecretRecord& secret) = 0;  // kAlreadyExists
  // Replaces the value and type of an existing secret (created_at kept). kNotFound.
  virtual absl::Status Update(const UserSecretRecord& secret) = 0;
  virtual absl::StatusOr<UserSecretRecord> Get(const UserSecretKey& id) = 0;  // kNotFound
  virtual absl::Status Delete(const UserSecretKey& id) = 0;                   // kNotFound
  // Secrets of exactly (org, project, domain), by name, at most `limit` with names after `after_name`.
  virtual absl::StatusOr<std::vector<UserSecretRecord>> List(const std::string& org, const std::string& project,
                                                             const std::string& domain, const std::string& after_name,
                                                             int limit) = 0;
};

}  // namespace flyte::runs
