// The executor's seam with runs-service's secrets: a task's declared secrets are resolved just before its process
// is started (after the cache lookup, so a cache hit fetches none), and handed to the runtime with the action.
#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "runtime/task_secrets.h"
#include "service/executor.h"

namespace flyte::executor {

void Executor::ResolveSecrets(ActionToRun& action) {
  absl::StatusOr<std::vector<DeclaredSecret>> declared = DeclaredSecrets(action);
  if (!declared.ok()) {
    action.secrets_error = {"InvalidTask", std::string(declared.status().message())};
    return;
  }
  if (declared->empty()) return;
  if (secrets_ == nullptr) {
    action.secrets_error = {"SecretsUnavailable", "the task declares secrets but this executor has no secret store"};
    action.secrets_error_is_user = false;
    return;
  }
  std::vector<std::string> names;
  for (const DeclaredSecret& d : *declared) names.push_back(d.name);
  const std::string& org = action.key.org.empty() ? options_.runtime.env.default_org : action.key.org;
  absl::StatusOr<std::vector<std::string>> values =
      secrets_->Resolve(org, action.key.project, action.key.domain, names);
  if (!values.ok()) {
    // Names only, never values, in what is logged and reported.
    const bool missing = values.status().code() == absl::StatusCode::kNotFound;
    action.secrets_error = {missing ? "SecretNotFound" : "SecretsUnavailable",
                            absl::StrCat("cannot resolve the task's secrets: ", values.status().message())};
    action.secrets_error_is_user = missing;
    FLYTE_LOG(kWarn, "{}: {}", action.key.ToString(), action.secrets_error->second);
    return;
  }
  for (size_t i = 0; i < declared->size(); ++i) {
    action.secrets.push_back(TaskSecret{(*declared)[i].name, (*declared)[i].env_var, std::move((*values)[i])});
  }
}

}  // namespace flyte::executor
