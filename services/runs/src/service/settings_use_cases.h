#pragma once
// Use cases of flyteidl2.settings.SettingsService on plain types (no gRPC, no protobuf).
//
// Settings are scoped ORG > DOMAIN > PROJECT. This stack applies no settings a client could change: the one value it
// has is where run data goes (`storage.raw_data_path`, the ORG level, from runs.storagePrefix). Reads answer that;
// Create/Update are refused naming the keys the client sent (storing values nothing applies would silently ignore
// them).
//
// Thread-safe. Errors: kInvalidArgument (a project without a domain), kNotFound (unknown project or domain, naming
// it), kUnimplemented (any change, naming the keys), kUnavailable/kInternal (project store).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/project_use_cases.h"

namespace flyte::runs {

struct SettingsScope {
  std::string org;
  std::string domain;   // "" = ORG scope
  std::string project;  // "" = ORG or DOMAIN scope; needs a domain
};

// The settings one scope sets itself (not inherited), by dot-notation key, e.g. "storage.raw_data_path".
struct SettingsLevel {
  SettingsScope scope;
  std::map<std::string, std::string> values;
  uint64_t version = 0;  // 0 = nothing is recorded at this scope
};

inline constexpr char kRawDataPathSetting[] = "storage.raw_data_path";

class SettingsUseCases {
 public:
  // `projects` may be null (no scope check); `raw_data_path` is the storage prefix run data goes under.
  SettingsUseCases(ProjectUseCases* projects, std::string raw_data_path)
      : projects_(projects), raw_data_path_(std::move(raw_data_path)) {}

  // The levels from ORG down to `scope` that set anything, broadest first (today: the ORG level only).
  absl::StatusOr<std::vector<SettingsLevel>> GetForEdit(const SettingsScope& scope);
  // What `scope` itself sets (version 0 and no values for a scope that sets nothing).
  absl::StatusOr<SettingsLevel> Get(const SettingsScope& scope);
  // CreateSettings / UpdateSettings: always kUnimplemented naming `method` and `keys` (after the scope checks).
  absl::Status Change(const std::string& method, const SettingsScope& scope, const std::vector<std::string>& keys);

 private:
  absl::Status CheckScope(const SettingsScope& scope);
  SettingsLevel OrgLevel(const std::string& org) const;

  ProjectUseCases* projects_;
  const std::string raw_data_path_;
};

}  // namespace flyte::runs
