#pragma once
// Use cases of flyteidl2.secret.SecretService on plain types, and the executor's resolution of a task's declared
// secrets. Values are sealed with AES-256-GCM (common/aead.h) under the configured key before they reach the
// repository, with "org/project/domain/name" as associated data, and opened only by Resolve. No method but Resolve
// returns a value; nothing here logs one.
//
// Thread-safe. Errors: kInvalidArgument naming the field, kNotFound naming the secret, kAlreadyExists,
// kDataLoss (a stored value that does not open under the key), kUnavailable/kInternal (store).
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "repository/user_secret_repository.h"

namespace flyte::runs {

struct SecretPage {
  std::vector<UserSecretRecord> secrets;  // sealed_value cleared
  std::string next_token;                 // "" = last page
};

class SecretUseCases {
 public:
  // `key`: 32 bytes.
  SecretUseCases(UserSecretRepository& store, common::Clock& clock, std::string key)
      : store_(store), clock_(clock), key_(std::move(key)) {}

  absl::Status Create(const UserSecretKey& id, int type, const std::string& value);
  absl::Status Update(const UserSecretKey& id, int type, const std::string& value);
  absl::StatusOr<UserSecretRecord> Get(const UserSecretKey& id);  // sealed_value cleared
  absl::Status Delete(const UserSecretKey& id);
  // `limit` <= 0 means 100; `token` is the previous page's next_token.
  absl::StatusOr<SecretPage> List(const std::string& org, const std::string& project, const std::string& domain,
                                  int limit, const std::string& token);
  // The values of `names` for a task running in (org, project, domain): each looked up in (org, project, domain),
  // then (org, project, ""), then (org, "", ""). kNotFound naming the first name found in none.
  absl::StatusOr<std::vector<std::string>> Resolve(const std::string& org, const std::string& project,
                                                   const std::string& domain, const std::vector<std::string>& names);

 private:
  absl::StatusOr<UserSecretRecord> Seal(const UserSecretKey& id, int type, const std::string& value);

  UserSecretRepository& store_;
  common::Clock& clock_;
  std::string key_;
};

}  // namespace flyte::runs
