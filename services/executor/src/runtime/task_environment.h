#pragma once
// The environment a task process starts with. Later layers override earlier ones:
//   1. the executor's own environment when inherit_host_env (PATH, HOME, a virtualenv...), minus
//      FLYTECTL_CONFIG and UCTL_CONFIG (the task must talk to this control plane, not a user's config);
//   2. the identity the flyte SDK runtime reads (ACTION_NAME, RUN_NAME, FLYTE_INTERNAL_*, _U_*, ...);
//   3. the task template's container env;
//   4. the run spec envs.
// Pure function; thread-safe.
#include <string>
#include <utility>
#include <vector>

#include "runtime/action.h"

namespace flyte::executor {

struct TaskEnvironmentOptions {
  std::string endpoint;             // _U_EP_OVERRIDE: the runs-service endpoint, e.g. "dns:///127.0.0.1:8090"
  bool insecure = true;             // _U_INSECURE
  bool use_actions_service = false; // _U_USE_ACTIONS=1
  bool inherit_host_env = true;
  std::string extra_path;           // prepended to PATH (e.g. the virtualenv holding the SDK's entrypoint)
  std::string default_org = "local";  // _U_ORG_NAME when the action has no org (the SDK needs it non-empty)
};

struct TaskIdentity {
  const ActionKey* key;
  std::string run_base_uri;  // _U_RUN_BASE
  int attempt = 1;
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Returns "KEY=VALUE" strings, one per key, in first-set order.
std::vector<std::string> BuildTaskEnvironment(const TaskEnvironmentOptions& options, const TaskIdentity& identity,
                                              const EnvList& container_env, const EnvList& run_env);

}  // namespace flyte::executor
