#include "runtime/task_environment.h"

#include <unistd.h>

#include <string_view>
#include <unordered_map>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace flyte::executor {
namespace {

class EnvBuilder {
 public:
  void Set(std::string key, std::string value) {
    if (key.empty() || key.find('=') != std::string::npos) return;
    auto [it, inserted] = index_.emplace(key, entries_.size());
    if (inserted) {
      entries_.emplace_back(std::move(key), std::move(value));
    } else {
      entries_[it->second].second = std::move(value);
    }
  }
  void Unset(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    entries_[it->second].first.clear();  // tombstone keeps the other indexes valid
    index_.erase(it);
  }
  const std::string* Get(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  std::vector<std::string> Build() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [k, v] : entries_) {
      if (!k.empty()) out.push_back(absl::StrCat(k, "=", v));
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

std::vector<std::string> BuildTaskEnvironment(const TaskEnvironmentOptions& options, const TaskIdentity& identity,
                                              const EnvList& container_env, const EnvList& run_env) {
  EnvBuilder env;
  if (options.inherit_host_env && environ != nullptr) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view kv(*e);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      env.Set(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  if (!options.extra_path.empty()) {
    const std::string* path = env.Get("PATH");
    env.Set("PATH", path == nullptr || path->empty() ? options.extra_path
                                                     : absl::StrCat(options.extra_path, ":", *path));
  }
  env.Unset("FLYTECTL_CONFIG");
  env.Unset("UCTL_CONFIG");

  const ActionKey& key = *identity.key;
  env.Set("ACTION_NAME", key.action_name);
  env.Set("RUN_NAME", key.run_name);
  // SDK releases differ in which of the two names they read for project/domain: set both.
  env.Set("FLYTE_INTERNAL_EXECUTION_PROJECT", key.project);
  env.Set("FLYTE_INTERNAL_EXECUTION_DOMAIN", key.domain);
  env.Set("FLYTE_INTERNAL_TASK_PROJECT", key.project);
  env.Set("FLYTE_INTERNAL_TASK_DOMAIN", key.domain);
  env.Set("FLYTE_ATTEMPT_NUMBER", absl::StrCat(identity.attempt - 1));  // 0-based, as flytekit counts
  env.Set("_U_ORG_NAME", key.org.empty() ? options.default_org : key.org);
  env.Set("_U_RUN_BASE", identity.run_base_uri);
  if (!options.endpoint.empty()) env.Set("_U_EP_OVERRIDE", options.endpoint);
  if (options.insecure) env.Set("_U_INSECURE", "true");
  if (options.use_actions_service) env.Set("_U_USE_ACTIONS", "1");
  env.Set("FSSPEC_FILE_AUTO_MKDIR", "true");
  env.Set("FLYTE_DISABLE_SENTRY", "true");

  for (const auto& [k, v] : container_env) env.Set(k, v);
  for (const auto& [k, v] : run_env) env.Set(k, v);
  return env.Build();
}

}  // namespace flyte::executor
