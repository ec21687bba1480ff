#pragma once
// Port to runs-service's internal SecretResolveService: the values of the secrets a task declares, for the local
// runtime to hand to its process. Values stay in memory with the action until it ends (retries reuse them).
//
// Thread-safe; calls block the calling thread. Errors: kNotFound naming the first secret that does not exist,
// transport failures as kUnavailable / kDeadlineExceeded, and whatever else runs-service answers.
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace flyte::executor {

class SecretClient {
 public:
  virtual ~SecretClient() = default;
  // One value per name, same order, for a task of (org, project, domain).
  virtual absl::StatusOr<std::vector<std::string>> Resolve(const std::string& org, const std::string& project,
                                                           const std::string& domain,
                                                           const std::vector<std::string>& names) = 0;
};

}  // namespace flyte::executor
