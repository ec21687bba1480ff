#pragma once
// The secrets a task declares (TaskTemplate.security_context.secrets) and how the local runtime hands their values
// to the task's process, following the flyte SDK's conventions:
//   - mount_requirement ENV_VAR (what flyte.Secret(key=..., as_env_var=...) and flyte.Secret(key=...) send): the
//     value in the environment variable `env_var`;
//   - mount_requirement FILE (flyte.Secret(key=..., mount="/etc/flyte/secrets")): the value in the file <key>, mode
//     0400, in a directory of the attempt's own (0700) whose path is in FLYTE_SECRETS_DEFAULT_DIR (the directory
//     /etc/flyte/secrets names in a container; a local process cannot have a private /etc). The directory is
//     removed when the process ends.
// The secret looked up is the one named `key` (runs-service tries the task's project/domain, then its project,
// then its org). Not supported, refused naming the secret: group, group_version, ENV_VAR without env_var.
// Functions are thread-safe.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/action.h"
#include "runtime/task_environment.h"

namespace flyteidl2::core {
class TaskTemplate;
}

namespace flyte::executor {

inline constexpr char kSecretsDirEnv[] = "FLYTE_SECRETS_DEFAULT_DIR";

struct DeclaredSecret {
  std::string name;     // the secret's key
  std::string env_var;  // "" = a file named `name` in the secrets directory
  bool operator==(const DeclaredSecret&) const = default;
};

// kInvalidArgument naming the secret and the field for what is not supported.
absl::StatusOr<std::vector<DeclaredSecret>> DeclaredSecrets(const flyteidl2::core::TaskTemplate& tmpl);
// The same for the action's task (OK and empty when the task does not parse: ParseTask reports that).
absl::StatusOr<std::vector<DeclaredSecret>> DeclaredSecrets(const ActionToRun& action);

// Writes the file-mounted secrets into `dir` (created 0700; files 0400) and returns the environment the process
// gets on top of its own: each env-var secret, and FLYTE_SECRETS_DEFAULT_DIR=dir when a file was written.
// kInternal naming the secret (never its value) when a file cannot be written.
absl::StatusOr<EnvList> MaterializeSecrets(const std::vector<TaskSecret>& secrets, const std::string& dir);

}  // namespace flyte::executor
