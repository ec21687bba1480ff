#pragma once
// flyteidl2.auth.IdentityService and flyteidl2.settings.SettingsService adapters (`flyte whoami`,
// `flyte get settings`, `flyte edit settings`).
//
// IdentityService.UserInfo: this stack has no authentication, so every caller is the same anonymous subject
// (kAnonymousSubject). SettingsService: see SettingsUseCases. Thread-safe; borrows `settings`.
#include "flyte/rpc/router.h"
#include "service/settings_use_cases.h"

namespace flyte::runs::api {

inline constexpr char kAnonymousSubject[] = "anonymous";

class IdentitySettingsApi {
 public:
  explicit IdentitySettingsApi(SettingsUseCases& settings) : settings_(settings) {}
  void Register(rpc::Router& router);

 private:
  SettingsUseCases& settings_;
};

}  // namespace flyte::runs::api
