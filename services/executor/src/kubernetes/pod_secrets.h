#pragma once
// Secrets a task declares (TaskTemplate.security_context.secrets), given to its Pod as the local runtime gives them
// to its process (runtime/task_secrets.h): the resolved values go into one Kubernetes Secret per attempt,
//   name       <pod name>-secrets; labels the Pod's flyte.org/* ones; an ownerReference (controller) to the
//              TaskAction, so deleting it deletes the Secret; type Opaque, immutable
//   data       one key per secret: its name when that is a valid Secret key, else secret-<n>
// and the Pod's primary container refers to it:
//   - env-var secrets: env <env_var> valueFrom.secretKeyRef {name, key}
//   - file secrets: volume flyte-secrets (secret, defaultMode 0400, one item per secret at path <key>) mounted
//     read-only at /etc/flyte/secrets, and FLYTE_SECRETS_DEFAULT_DIR=/etc/flyte/secrets in the env
// The values never reach a log, an event or an error message: only names do. Functions are thread-safe.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "flyte/kube/client.h"
#include "runtime/action.h"

namespace flyte::executor::k8s {

inline constexpr char kSecretsVolumeName[] = "flyte-secrets";
inline constexpr char kSecretsMountPath[] = "/etc/flyte/secrets";  // the SDK's default secrets directory

// "<pod name>-secrets".
std::string AttemptSecretName(const std::string& pod_name);

// Adds the references to `secrets` (held by Secret `secret_name`) to the container `primary` of Pod spec `spec`.
// A secret's env var replaces a variable of that name already there.
void ReferAttemptSecret(const std::vector<TaskSecret>& secrets, const std::string& secret_name, nlohmann::json* spec,
                        nlohmann::json* primary);

// The Secret for `pod` (as BuildPod makes it: name, namespace, labels, ownerReferences are taken from it).
nlohmann::json BuildAttemptSecret(const std::vector<TaskSecret>& secrets, const nlohmann::json& pod);

// Creates `secret`, or adopts the one of that name already there when it belongs to the same TaskAction
// (`owner_uid`): a repeated reconcile or a restarted executor. One left by an earlier TaskAction of the same name
// is deleted and kUnavailable returned (reconcile again). Other errors are the API server's.
absl::Status EnsureAttemptSecret(kube::Client& client, const nlohmann::json& secret, const std::string& owner_uid);

// Deletes the attempt's Secret; OK when it is already gone.
absl::Status DeleteAttemptSecret(kube::Client& client, const std::string& ns, const std::string& pod_name);

}  // namespace flyte::executor::k8s
