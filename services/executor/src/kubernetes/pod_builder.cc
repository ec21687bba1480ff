#include "kubernetes/pod_builder.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "flyte/kube/task_action.h"
#include "kubernetes/pod_secrets.h"
#include "kubernetes/task_action_view.h"

namespace flyte::executor::k8s {
namespace {

using Json = nlohmann::json;

constexpr char kDefaultPrimary[] = "task";

Json ResourcesJson(const flyteidl2::core::Resources& r) {
  Json out = Json::object();
  for (const auto& e : r.requests()) {
    std::string name = ResourceName(e.name());
    if (!name.empty()) out["requests"][name] = e.value();
  }
  for (const auto& e : r.limits()) {
    std::string name = ResourceName(e.name());
    if (!name.empty()) out["limits"][name] = e.value();
  }
  return out;
}

std::vector<std::string> Substitute(const Json& list, const TemplateVars& vars, std::set<std::string>* unknown) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) {
    if (item.is_string()) out.push_back(SubstituteTemplate(item.get<std::string>(), vars, unknown));
  }
  return out;
}

std::vector<std::string> Substitute(const std::vector<std::string>& list, const TemplateVars& vars,
                                    std::set<std::string>* unknown) {
  std::vector<std::string> out;
  for (const std::string& s : list) out.push_back(SubstituteTemplate(s, vars, unknown));
  return out;
}

// Name/value pairs of a container's env (entries with valueFrom are kept aside: they pass through unchanged).
EnvList PlainEnv(const Json& env, Json* value_from) {
  EnvList out;
  if (!env.is_array()) return out;
  for (const Json& e : env) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) continue;
    if (e.contains("valueFrom")) {
      value_from->push_back(e);
    } else {
      out.emplace_back(e["name"].get<std::string>(), e.value("value", ""));
    }
  }
  return out;
}

std::string PrimaryName(const flyteidl2::core::TaskTemplate& tmpl, const Json& containers) {
  if (tmpl.has_k8s_pod() && !tmpl.k8s_pod().primary_container_name().empty()) {
    return tmpl.k8s_pod().primary_container_name();
  }
  auto it = tmpl.config().find("primary_container_name");
  if (it != tmpl.config().end() && !it->second.empty()) return it->second;
  if (containers.is_array() && !containers.empty() && containers[0].contains("name")) {
    return containers[0]["name"].get<std::string>();
  }
  return kDefaultPrimary;
}

// <attempt dir>/tmp relative to the data root, when the task's /tmp goes there: a data volume, the option on,
// the attempt's directory on the volume, and nothing of the task's own mounted at /tmp. Else "".
std::string TaskTmpSubPath(const PodSettings& s, const AttemptPaths& paths, const Json& primary) {
  if (s.data_volume_claim.empty() || !s.task_tmp_on_data_volume) return "";
  for (const Json& m : primary.value("volumeMounts", Json::array())) {
    if (!m.is_object()) continue;
    std::string at = m.value("mountPath", "");
    while (at.size() > 1 && at.back() == '/') at.pop_back();
    if (at == kTaskTmp) return "";
  }
  const std::filesystem::path rel =
      std::filesystem::path(paths.attempt_dir).lexically_normal().lexically_relative(
          std::filesystem::path(s.data_root).lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return "";  // the run's output base lies outside the volume
  return (rel / "tmp").string();
}

}  // namespace

std::string ResourceName(int n) {
  switch (n) {
    case flyteidl2::core::Resources::CPU: return "cpu";
    case flyteidl2::core::Resources::GPU: return "nvidia.com/gpu";
    case flyteidl2::core::Resources::MEMORY: return "memory";
    case flyteidl2::core::Resources::STORAGE:
    case flyteidl2::core::Resources::EPHEMERAL_STORAGE: return "ephemeral-storage";
    default: return "";
  }
}

absl::StatusOr<BuiltPod> BuildPod(const PodSettings& s, const PodRequest& r) {
  const ActionToRun& action = *r.action;
  const flyteidl2::core::TaskTemplate& tmpl = r.task->tmpl;
  if (!tmpl.metadata().pod_template_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata.pod_template_name '", tmpl.metadata().pod_template_name(),
        "' is not supported by this executor: give the Pod template with the task (flyte.PodTemplate)"));
  }
  if (tmpl.extended_resources().has_gpu_accelerator()) {
    return absl::InvalidArgumentError(
        "extended_resources.gpu_accelerator is not supported by this executor: request GPUs with the task's "
        "resources (gpu=N) and pick nodes with a Pod template (nodeSelector, tolerations)");
  }
  if (tmpl.security_context().secrets_size() > 0 && r.secrets == nullptr) {
    return absl::InvalidArgumentError("security_context.secrets: the task's secrets were not resolved");
  }
  BuiltPod out;
  kube::ActionRef ref{action.key.org, action.key.project, action.key.domain, action.key.run_name,
                      action.key.action_name};
  out.name = kube::PodName(ref, r.attempt);
  Json spec = Json::object();
  Json labels = Json::object();
  Json annotations = Json::object();
  if (tmpl.has_k8s_pod()) {
    std::string text;
    if (!google::protobuf::util::MessageToJsonString(tmpl.k8s_pod().pod_spec(), &text).ok()) {
      return absl::InvalidArgumentError("the task's Pod template (k8s_pod.pod_spec) cannot be read");
    }
    spec = Json::parse(text, nullptr, false);
    if (!spec.is_object()) return absl::InvalidArgumentError("the task's Pod template is not an object");
    for (const auto& [k, v] : tmpl.k8s_pod().metadata().labels()) labels[k] = v;
    for (const auto& [k, v] : tmpl.k8s_pod().metadata().annotations()) annotations[k] = v;
  } else if (!tmpl.has_container()) {
    return absl::InvalidArgumentError(absl::StrCat("task type '", tmpl.type(),
                                                   "' has neither a container nor a Pod template: nothing to run"));
  }
  if (!spec.contains("containers") || !spec["containers"].is_array()) spec["containers"] = Json::array();
  Json& containers = spec["containers"];
  out.primary_container = PrimaryName(tmpl, containers);
  Json* primary = nullptr;
  for (Json& c : containers) {
    if (c.value("name", "") == out.primary_container) primary = &c;
  }
  if (primary == nullptr) {
    if (tmpl.has_k8s_pod()) {
      return absl::InvalidArgumentError(absl::StrCat("the task's Pod template has no container named '",
                                                     out.primary_container, "' (its primary container)"));
    }
    containers.push_back(Json{{"name", out.primary_container}});
    primary = &containers.back();
  }

  TemplateVars vars = AttemptTemplateVars(action, *r.paths, r.attempt, s.env.default_org);
  Json value_from = Json::array();
  EnvList container_env = r.task->container_env;
  if (tmpl.has_container()) {
    (*primary)["image"] = tmpl.container().image();
    if (!r.task->command.empty()) (*primary)["command"] = Substitute(r.task->command, vars, &out.unknown_vars);
    if (!r.task->args.empty()) (*primary)["args"] = Substitute(r.task->args, vars, &out.unknown_vars);
    Json res = ResourcesJson(tmpl.container().resources());
    if (!res.empty()) (*primary)["resources"] = res;
  } else {
    for (const char* key : {"command", "args"}) {
      if (primary->contains(key)) (*primary)[key] = Substitute((*primary)[key], vars, &out.unknown_vars);
    }
    container_env = PlainEnv(primary->value("env", Json::array()), &value_from);
  }
  if (!primary->contains("image") || !(*primary)["image"].is_string() || (*primary)["image"].get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the task's container '", out.primary_container, "' has no image"));
  }
  if (!primary->contains("command") && !primary->contains("args")) {
    return absl::InvalidArgumentError("the task's container has neither command nor args");
  }

  TaskEnvironmentOptions env_options = s.env;
  env_options.inherit_host_env = false;
  env_options.extra_path.clear();
  std::vector<std::string> env = BuildTaskEnvironment(env_options, TaskIdentity{&action.key, ToFileUri(r.paths->run_dir),
                                                                                r.attempt},
                                                      container_env, action.envs);
  Json env_json = Json::array();
  std::set<std::string> names;
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    names.insert(kv.substr(0, eq));
    env_json.push_back(Json{{"name", kv.substr(0, eq)}, {"value", kv.substr(eq + 1)}});
  }
  for (const Json& e : value_from) {
    if (names.count(e["name"].get<std::string>()) == 0) env_json.push_back(e);
  }
  (*primary)["env"] = std::move(env_json);
  if (r.secrets != nullptr) ReferAttemptSecret(*r.secrets, AttemptSecretName(out.name), &spec, primary);
  if ((!primary->contains("resources") || (*primary)["resources"].empty()) && !s.default_resources.empty()) {
    (*primary)["resources"] = s.default_resources;
  }
  (*primary)["terminationMessagePolicy"] = "FallbackToLogsOnError";
  if (!s.data_volume_claim.empty()) {
    if (!primary->contains("volumeMounts")) (*primary)["volumeMounts"] = Json::array();
    (*primary)["volumeMounts"].push_back(Json{{"name", kDataVolumeName}, {"mountPath", s.data_root}});
    if (!spec.contains("volumes")) spec["volumes"] = Json::array();
    spec["volumes"].push_back(Json{{"name", kDataVolumeName}, {"persistentVolumeClaim", {{"claimName", s.data_volume_claim}}}});
  }

  if (tmpl.extended_resources().has_shared_memory()) {
    // flyte.Resources(shm=...): a memory-backed emptyDir, at /dev/shm unless the task says otherwise.
    const auto& shm = tmpl.extended_resources().shared_memory();
    std::string name = shm.mount_name().empty() ? "flyte-shm" : shm.mount_name();
    Json empty_dir = {{"medium", "Memory"}};
    if (!shm.size_limit().empty()) empty_dir["sizeLimit"] = shm.size_limit();
    if (!spec.contains("volumes")) spec["volumes"] = Json::array();
    spec["volumes"].push_back(Json{{"name", name}, {"emptyDir", empty_dir}});
    if (!primary->contains("volumeMounts")) (*primary)["volumeMounts"] = Json::array();
    (*primary)["volumeMounts"].push_back(
        Json{{"name", name}, {"mountPath", shm.mount_path().empty() ? "/dev/shm" : shm.mount_path()}});
  }
  if (std::string sub_path = TaskTmpSubPath(s, *r.paths, *primary); !sub_path.empty()) {
    // The task's /tmp is the attempt's own directory on the data volume: what the task leaves there (an in-task
    // File.from_local keeps its /tmp path) outlives the Pod, and the executor renames it in the outputs.
    (*primary)["volumeMounts"].push_back(
        Json{{"name", kDataVolumeName}, {"mountPath", kTaskTmp}, {"subPath", sub_path}});
    annotations[kTaskTmpAnnotation] = sub_path;
    out.task_tmp_dir = absl::StrCat(s.data_root, "/", sub_path);
  } else {
    annotations.erase(kTaskTmpAnnotation);  // only ours says where /tmp is
  }
  spec["restartPolicy"] = "Never";
  const std::string& task_sa = tmpl.security_context().run_as().k8s_service_account();
  if (!task_sa.empty()) {
    spec["serviceAccountName"] = task_sa;
  } else if (!spec.contains("serviceAccountName") && !s.service_account.empty()) {
    spec["serviceAccountName"] = s.service_account;
  }
  if (!spec.contains("nodeSelector") && !s.node_selector.empty()) spec["nodeSelector"] = s.node_selector;
  if (!spec.contains("tolerations") && !s.tolerations.empty()) spec["tolerations"] = s.tolerations;
  if (!spec.contains("imagePullSecrets") && !s.image_pull_secrets.empty()) {
    Json secrets = Json::array();
    for (const std::string& name : s.image_pull_secrets) secrets.push_back(Json{{"name", name}});
    spec["imagePullSecrets"] = std::move(secrets);
  }
  if (r.task->timeout.count() > 0) {
    spec["activeDeadlineSeconds"] = (r.task->timeout.count() + 999) / 1000;
  }
  spec["terminationGracePeriodSeconds"] = s.kill_grace.count() / 1000;

  const Json action_labels = kube::ActionLabels(ref);
  for (const auto& [k, v] : action_labels.items()) labels[k] = v;
  labels[kube::kLabelAttempt] = std::to_string(r.attempt);
  labels[kube::kLabelTaskAction] = r.task_action_name;
  labels[kube::kLabelManagedBy] = kube::kManagedByExecutor;
  annotations[kPrimaryContainerAnnotation] = out.primary_container;
  annotations["flyte.org/action-id"] = ref.ToString();
  out.pod = Json{{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata",
                  {{"name", out.name},
                   {"namespace", s.ns},
                   {"labels", labels},
                   {"annotations", annotations},
                   {"ownerReferences", Json::array({Json{{"apiVersion", kube::kTaskActionApiVersion},
                                                         {"kind", kube::kTaskActionKind},
                                                         {"name", r.task_action_name},
                                                         {"uid", r.task_action_uid},
                                                         {"controller", true},
                                                         {"blockOwnerDeletion", true}}})}}},
                 {"spec", std::move(spec)}};
  return out;
}

}  // namespace flyte::executor::k8s
