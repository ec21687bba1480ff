#pragma once
// Port to runs-service's internal SecretResolveService: the values of the secrets a task declares, for the local
// runtime to hand to its process (they stay in memory with the action until it ends; retries reuse them) or for
// the Kubernetes runtime to put in the attempt's Secret (resolved again for each attempt, never kept).
//
// Thread-safe; calls block the calling thread. Errors: kNotFound naming the first secret that does not exist,
// transport failures as kUnavailable / kDeadlineExceeded, and whatever else runs-service answers.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/action.h"

namespace flyte::executor {

class SecretClient {
 public:
  virtual ~SecretClient() = default;
  // One value per name, same order, for a task of (org, project, domain).
  virtual absl::StatusOr<std::vector<std::string>> Resolve(const std::string& org, const std::string& project,
                                                           const std::string& domain,
                                                           const std::vector<std::string>& names) = 0;
};

// The values of the secrets `action`'s task declares, for either runtime (none declared: OK and empty). Errors,
// each naming secrets, never values: kInvalidArgument for a declaration not supported, kFailedPrecondition when
// `client` is null, and Resolve's (kNotFound for a missing secret) prefixed "cannot resolve the task's secrets: ".
// `default_org` stands for an action without an org.
absl::StatusOr<std::vector<TaskSecret>> ResolveTaskSecrets(SecretClient* client, const ActionToRun& action,
                                                           const std::string& default_org);
// The attempt's error code for a ResolveTaskSecrets error: InvalidTask, SecretNotFound or SecretsUnavailable.
std::string SecretsErrorCode(const absl::Status& status);

}  // namespace flyte::executor
