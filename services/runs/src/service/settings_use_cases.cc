#include "service/settings_use_cases.h"

#include <algorithm>

namespace flyte::runs {

absl::Status SettingsUseCases::CheckScope(const SettingsScope& scope) {
  if (!scope.project.empty() && scope.domain.empty()) {
    return absl::InvalidArgumentError("key.domain is required when key.project is set (project settings are "
                                      "scoped to a domain)");
  }
  if (projects_ == nullptr || scope.domain.empty()) return absl::OkStatus();
  if (!scope.project.empty()) return projects_->CheckScope(scope.project, scope.domain);
  const std::vector<std::string>& domains = projects_->domains();
  if (std::find(domains.begin(), domains.end(), scope.domain) != domains.end()) return absl::OkStatus();
  std::string known;
  for (const std::string& d : domains) known += (known.empty() ? "" : ", ") + d;
  return absl::NotFoundError("domain " + scope.domain + " not found (domains: " + known + ")");
}

SettingsLevel SettingsUseCases::OrgLevel(const std::string& org) const {
  SettingsLevel level;
  level.scope.org = org;
  if (!raw_data_path_.empty()) {
    level.values[kRawDataPathSetting] = raw_data_path_;
    // Derived from the configuration, never edited: one version for as long as the configuration holds.
    level.version = 1;
  }
  return level;
}

absl::StatusOr<std::vector<SettingsLevel>> SettingsUseCases::GetForEdit(const SettingsScope& scope) {
  if (absl::Status s = CheckScope(scope); !s.ok()) return s;
  std::vector<SettingsLevel> levels;
  SettingsLevel org = OrgLevel(scope.org);
  if (!org.values.empty()) levels.push_back(std::move(org));
  return levels;
}

absl::StatusOr<SettingsLevel> SettingsUseCases::Get(const SettingsScope& scope) {
  if (absl::Status s = CheckScope(scope); !s.ok()) return s;
  if (scope.domain.empty()) return OrgLevel(scope.org);
  SettingsLevel level;
  level.scope = scope;
  return level;
}

absl::Status SettingsUseCases::Change(const std::string& method, const SettingsScope& scope,
                                      const std::vector<std::string>& keys) {
  if (absl::Status s = CheckScope(scope); !s.ok()) return s;
  std::string named;
  for (const std::string& k : keys) named += (named.empty() ? "" : ", ") + k;
  return absl::UnimplementedError(
      "SettingsService." + method + " is not supported: this stack applies no settings a client can change (" +
      std::string(kRawDataPathSetting) + " comes from runs.storagePrefix); refused: " +
      (named.empty() ? std::string("(no keys)") : named));
}

}  // namespace flyte::runs
