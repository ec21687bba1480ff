#include "clients/secret_client.h"

#include "absl/strings/str_cat.h"
#include "runtime/task_secrets.h"

namespace flyte::executor {

absl::StatusOr<std::vector<TaskSecret>> ResolveTaskSecrets(SecretClient* client, const ActionToRun& action,
                                                           const std::string& default_org) {
  absl::StatusOr<std::vector<DeclaredSecret>> declared = DeclaredSecrets(action);
  if (!declared.ok()) return declared.status();
  std::vector<TaskSecret> out;
  if (declared->empty()) return out;
  if (client == nullptr) {
    return absl::FailedPreconditionError("the task declares secrets but this executor has no secret store");
  }
  std::vector<std::string> names;
  for (const DeclaredSecret& d : *declared) names.push_back(d.name);
  const std::string& org = action.key.org.empty() ? default_org : action.key.org;
  absl::StatusOr<std::vector<std::string>> values = client->Resolve(org, action.key.project, action.key.domain, names);
  if (!values.ok()) {
    return absl::Status(values.status().code(),
                        absl::StrCat("cannot resolve the task's secrets: ", values.status().message()));
  }
  for (size_t i = 0; i < declared->size(); ++i) {
    out.push_back(TaskSecret{(*declared)[i].name, (*declared)[i].env_var, std::move((*values)[i])});
  }
  return out;
}

std::string SecretsErrorCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return "InvalidTask";
    case absl::StatusCode::kNotFound: return "SecretNotFound";
    default: return "SecretsUnavailable";
  }
}

}  // namespace flyte::executor
