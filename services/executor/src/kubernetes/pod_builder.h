#pragma once
// The Pod of one attempt of one action, built from the task exactly as the local runtime would run it: the same
// command and args with the same {{.var}} substitution, the same environment (without the executor's own:
// a Pod has its image's), plus what the cluster needs:
//   metadata   name kube::PodName(run, action, attempt); labels flyte.org/{org,project,domain,run,action,attempt,
//              taskaction} and app.kubernetes.io/managed-by=flyte-executor; the task Pod template's labels and
//              annotations; an ownerReference (controller) to the TaskAction, so deleting it deletes its Pods
//   spec       restartPolicy Never; the task's Pod template (SDK PodTemplate, TaskTemplate.k8s_pod) as the base,
//              its primary container getting the command, args and env; else one container "task" with the
//              task's image and resources; serviceAccountName (the task's, else the template's, else config),
//              nodeSelector / tolerations / imagePullSecrets (template's, else config), default resources for a
//              primary container that has none, the shared data volume mounted at the data root (and, unless
//              turned off or the template mounts /tmp itself, its <attempt dir>/tmp mounted at /tmp: annotation
//              flyte.org/task-tmp-subpath),
//              activeDeadlineSeconds = the task's timeout, terminationGracePeriodSeconds = killGracePeriod,
//              terminationMessagePolicy FallbackToLogsOnError (a failed container's log tail reaches the error),
//              the task's secrets by reference to the attempt's Secret (kubernetes/pod_secrets.h)
// kInvalidArgument (reported as InvalidTask) when the task has nothing to run or asks for what is not supported.
// Pure function; thread-safe.
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "runtime/action.h"
#include "runtime/attempt_layout.h"
#include "runtime/task_environment.h"
#include "runtime/task_launch.h"

namespace flyte::executor::k8s {

struct PodSettings {
  std::string ns;
  std::string service_account;
  nlohmann::json node_selector = nlohmann::json::object();
  nlohmann::json tolerations = nlohmann::json::array();
  std::vector<std::string> image_pull_secrets;
  nlohmann::json default_resources = nlohmann::json::object();
  std::string data_volume_claim;  // "" = no shared volume
  std::string data_root;          // where the volume is mounted, absolute
  bool task_tmp_on_data_volume = true;  // the primary container's /tmp = <attempt dir>/tmp on the volume
  TaskEnvironmentOptions env;     // inherit_host_env is ignored (always off for Pods)
  std::chrono::milliseconds kill_grace{5000};
};

struct PodRequest {
  const ActionToRun* action = nullptr;
  const TaskToRun* task = nullptr;
  const AttemptPaths* paths = nullptr;
  int attempt = 1;
  std::string task_action_name;
  std::string task_action_uid;
  // The task's declared secrets with their values (kubernetes/pod_secrets.h), referred to from the Secret
  // AttemptSecretName(pod name) the caller creates. Required when the task declares secrets.
  const std::vector<TaskSecret>* secrets = nullptr;
};

struct BuiltPod {
  nlohmann::json pod;
  std::string name;
  std::string primary_container;
  std::set<std::string> unknown_vars;  // template variables left as written
  std::string task_tmp_dir;            // <attempt dir>/tmp when the Pod's /tmp is mounted there, else ""
};

inline constexpr char kPrimaryContainerAnnotation[] = "flyte.org/primary-container";
inline constexpr char kDataVolumeName[] = "flyte-data";
inline constexpr char kTaskTmp[] = "/tmp";  // the task's path of its temp dir (the SDK's and Python's default)

absl::StatusOr<BuiltPod> BuildPod(const PodSettings& settings, const PodRequest& request);

// "CPU" -> "cpu" etc. for flyteidl2.core.Resources names; "" for UNKNOWN.
std::string ResourceName(int flyte_resource_name);

}  // namespace flyte::executor::k8s
