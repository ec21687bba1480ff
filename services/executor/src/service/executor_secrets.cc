// The executor's seam with runs-service's secrets: a task's declared secrets are resolved just before its process
// is started (after the cache lookup, so a cache hit fetches none), and handed to the runtime with the action.
#include "flyte/app/log.h"
#include "service/executor.h"

namespace flyte::executor {

void Executor::ResolveSecrets(ActionToRun& action) {
  absl::StatusOr<std::vector<TaskSecret>> secrets =
      ResolveTaskSecrets(secrets_, action, options_.runtime.env.default_org);
  if (secrets.ok()) {
    action.secrets = std::move(*secrets);
    return;
  }
  // Names only, never values, in what is logged and reported.
  const std::string code = SecretsErrorCode(secrets.status());
  action.secrets_error = {code, std::string(secrets.status().message())};
  action.secrets_error_is_user = code != "SecretsUnavailable";
  if (code != "InvalidTask") FLYTE_LOG(kWarn, "{}: {}", action.key.ToString(), action.secrets_error->second);
}

}  // namespace flyte::executor
