#include "kubernetes/pod_secrets.h"

#include <cctype>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flyte/kube/task_action.h"
#include "runtime/task_secrets.h"

namespace flyte::executor::k8s {
namespace {

using Json = nlohmann::json;

constexpr int kSecretFileMode = 0400;

// Secret data keys: [-._a-zA-Z0-9]+, at most 253 characters.
bool IsSecretKey(const std::string& s) {
  if (s.empty() || s.size() > 253 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// The data key of each secret, same order. One key per secret name (a secret both in env and in a file is one key).
std::vector<std::string> DataKeys(const std::vector<TaskSecret>& secrets) {
  std::map<std::string, std::string> by_name;
  std::vector<std::string> keys;
  for (size_t i = 0; i < secrets.size(); ++i) {
    auto [it, fresh] = by_name.try_emplace(secrets[i].name);
    if (fresh) it->second = IsSecretKey(secrets[i].name) ? secrets[i].name : absl::StrCat("secret-", i);
    keys.push_back(it->second);
  }
  return keys;
}

void SetEnv(Json* env, const std::string& name, Json entry) {
  for (Json& e : *env) {
    if (e.is_object() && e.value("name", "") == name) {
      e = std::move(entry);
      return;
    }
  }
  env->push_back(std::move(entry));
}

}  // namespace

std::string AttemptSecretName(const std::string& pod_name) { return pod_name + "-secrets"; }

void ReferAttemptSecret(const std::vector<TaskSecret>& secrets, const std::string& secret_name, Json* spec,
                        Json* primary) {
  if (secrets.empty()) return;
  const std::vector<std::string> keys = DataKeys(secrets);
  if (!primary->contains("env") || !(*primary)["env"].is_array()) (*primary)["env"] = Json::array();
  Json& env = (*primary)["env"];
  Json items = Json::array();
  for (size_t i = 0; i < secrets.size(); ++i) {
    const TaskSecret& s = secrets[i];
    if (!s.env_var.empty()) {
      SetEnv(&env, s.env_var,
             Json{{"name", s.env_var}, {"valueFrom", {{"secretKeyRef", {{"name", secret_name}, {"key", keys[i]}}}}}});
    } else {
      items.push_back(Json{{"key", keys[i]}, {"path", s.name}});
    }
  }
  if (items.empty()) return;
  SetEnv(&env, kSecretsDirEnv, Json{{"name", kSecretsDirEnv}, {"value", kSecretsMountPath}});
  if (!spec->contains("volumes")) (*spec)["volumes"] = Json::array();
  (*spec)["volumes"].push_back(Json{
      {"name", kSecretsVolumeName},
      {"secret", {{"secretName", secret_name}, {"defaultMode", kSecretFileMode}, {"items", std::move(items)}}}});
  if (!primary->contains("volumeMounts")) (*primary)["volumeMounts"] = Json::array();
  (*primary)["volumeMounts"].push_back(
      Json{{"name", kSecretsVolumeName}, {"mountPath", kSecretsMountPath}, {"readOnly", true}});
}

Json BuildAttemptSecret(const std::vector<TaskSecret>& secrets, const Json& pod) {
  const Json& md = pod["metadata"];
  const std::vector<std::string> keys = DataKeys(secrets);
  Json data = Json::object();
  for (size_t i = 0; i < secrets.size(); ++i) data[keys[i]] = absl::Base64Escape(secrets[i].value);
  Json labels = Json::object();
  const Json pod_labels = md.value("labels", Json::object());
  for (const auto& [k, v] : pod_labels.items()) {
    if (k.rfind("flyte.org/", 0) == 0 || k == kube::kLabelManagedBy) labels[k] = v;
  }
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"type", "Opaque"},
              {"immutable", true},
              {"metadata",
               {{"name", AttemptSecretName(md["name"].get<std::string>())},
                {"namespace", md["namespace"]},
                {"labels", std::move(labels)},
                {"ownerReferences", md["ownerReferences"]}}},
              {"data", std::move(data)}};
}

absl::Status EnsureAttemptSecret(kube::Client& client, const Json& secret, const std::string& owner_uid) {
  const std::string ns = secret["metadata"]["namespace"].get<std::string>();
  const std::string name = secret["metadata"]["name"].get<std::string>();
  absl::StatusOr<kube::Json> created = client.Create(kube::kSecrets, ns, secret);
  if (created.ok()) return absl::OkStatus();
  if (!absl::IsAlreadyExists(created.status())) return created.status();
  absl::StatusOr<kube::Json> got = client.Get(kube::kSecrets, ns, name);
  if (absl::IsNotFound(got.status())) return absl::UnavailableError(absl::StrCat("secret ", name, " went away"));
  if (!got.ok()) return got.status();
  for (const Json& ref : (*got)["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("uid", "") == owner_uid) return absl::OkStatus();  // ours: made before a retry or a restart
  }
  kube::DeleteOptions o;
  o.precondition_uid = (*got)["metadata"].value("uid", "");
  absl::Status s = client.Delete(kube::kSecrets, ns, name, o);
  if (!s.ok() && !absl::IsNotFound(s) && s.code() != absl::StatusCode::kAborted) return s;
  return absl::UnavailableError(absl::StrCat("secret ", name, " was left by an earlier TaskAction: deleted"));
}

absl::Status DeleteAttemptSecret(kube::Client& client, const std::string& ns, const std::string& pod_name) {
  absl::Status s = client.Delete(kube::kSecrets, ns, AttemptSecretName(pod_name), kube::DeleteOptions{});
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace flyte::executor::k8s
