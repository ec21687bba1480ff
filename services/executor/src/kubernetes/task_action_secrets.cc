// TaskActionController's handling of the secrets a task declares: resolved through runs-service's
// SecretResolveService each time an attempt's Pod is made, held in the attempt's Secret (kubernetes/pod_secrets.h)
// while the attempt lives. Names only, never values, are logged or reported.
#include "kubernetes/pod_secrets.h"
#include "kubernetes/task_action_controller.h"

namespace flyte::executor::k8s {

absl::StatusOr<std::vector<TaskSecret>> TaskActionController::ResolveSecrets(const ActionToRun& action) {
  absl::StatusOr<std::vector<TaskSecret>> secrets =
      ResolveTaskSecrets(options_.secrets, action, options_.pod.env.default_org);
  // runs-service away: the reconcile is tried again with backoff instead of failing the action.
  if (secrets.status().code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError(secrets.status().message());
  }
  return secrets;
}

absl::Status TaskActionController::SecretsUnresolved(const TaskActionView& ta, const TaskActionStatus& st,
                                                     const absl::Status& why) {
  if (absl::IsUnavailable(why)) return why;
  TaskActionView view = ta;
  view.status = st;  // a retry's start: the previous attempt's end is recorded with this failure
  const std::string code = SecretsErrorCode(why);
  return FailWithoutAttempt(view, ActionError{code, std::string(why.message()),
                                              code == "SecretsUnavailable" ? ErrorKind::kSystem : ErrorKind::kUser,
                                              false});
}

absl::Status TaskActionController::EndAttemptSecrets(const std::string& pod_name, const TaskToRun& task) {
  // Only a task that declares secrets has a Secret: others cost no API call.
  if (pod_name.empty() || task.tmpl.security_context().secrets_size() == 0) return absl::OkStatus();
  return DeleteAttemptSecret(client_, options_.ns, pod_name);
}

}  // namespace flyte::executor::k8s
