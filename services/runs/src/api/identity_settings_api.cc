#include "api/identity_settings_api.h"

#include <string>
#include <vector>

#include "domain/naming.h"
#include "flyteidl2/auth/identity.pb.h"
#include "flyteidl2/settings/settings_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace au = flyteidl2::auth;
namespace st = flyteidl2::settings;
namespace pb = google::protobuf;
constexpr char kIdentityService[] = "flyteidl2.auth.IdentityService";
constexpr char kSettingsService[] = "flyteidl2.settings.SettingsService";

SettingsScope ToScope(const st::SettingsKey& key) {
  return SettingsScope{OrgOrDefault(key.org()), key.domain(), key.project()};
}

void ToKey(const SettingsScope& scope, st::SettingsKey* out) {
  out->set_org(scope.org);
  out->set_domain(scope.domain);
  out->set_project(scope.project);
}

st::ScopeLevel LevelOf(const SettingsScope& scope) {
  if (!scope.project.empty()) return st::SCOPE_LEVEL_PROJECT;
  if (!scope.domain.empty()) return st::SCOPE_LEVEL_DOMAIN;
  return st::SCOPE_LEVEL_ORG;
}

// A leaf of flyteidl2.settings.Settings is a *Setting message: the one kind with a `state` field.
const pb::FieldDescriptor* StateField(const pb::Message& m) { return m.GetDescriptor()->FindFieldByName("state"); }

// The dot-notation keys (e.g. "run.default_queue") of every leaf a client set to a value or to UNSET.
void CollectSetKeys(const pb::Message& m, const std::string& prefix, std::vector<std::string>* keys) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) continue;
    const pb::Message& sub = r->GetMessage(m, f);
    const std::string key = prefix.empty() ? f->name() : prefix + "." + f->name();
    if (const pb::FieldDescriptor* state = StateField(sub); state != nullptr) {
      if (sub.GetReflection()->GetEnumValue(sub, state) != st::SETTING_STATE_INHERIT) keys->push_back(key);
    } else {
      CollectSetKeys(sub, key, keys);
    }
  }
}

// Writes the string leaf `dotkey` into `settings`; the keys come from SettingsUseCases, which only has string ones.
absl::Status SetStringLeaf(const std::string& dotkey, const std::string& value, st::ScopeLevel level,
                           st::Settings* settings) {
  pb::Message* m = settings;
  size_t start = 0;
  while (true) {
    const size_t dot = dotkey.find('.', start);
    const std::string part = dotkey.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const pb::FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(part);
    if (f == nullptr || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InternalError("settings key " + dotkey + " is not in flyteidl2.settings.Settings");
    }
    m = m->GetReflection()->MutableMessage(m, f);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  auto* leaf = dynamic_cast<st::StringSetting*>(m);
  if (leaf == nullptr) return absl::InternalError("settings key " + dotkey + " is not a string setting");
  leaf->set_state(st::SETTING_STATE_VALUE);
  leaf->set_string_value(value);
  leaf->set_scope_level(level);
  return absl::OkStatus();
}

absl::Status ToRecord(const SettingsLevel& level, st::SettingsRecord* out) {
  ToKey(level.scope, out->mutable_key());
  out->set_version(level.version);
  st::Settings* settings = out->mutable_settings();
  for (const auto& [key, value] : level.values) {
    if (absl::Status s = SetStringLeaf(key, value, LevelOf(level.scope), settings); !s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename Request>
absl::Status RefuseChange(SettingsUseCases& settings, const std::string& method, const Request& req) {
  if (!req.has_key()) return absl::InvalidArgumentError("key is required");
  if (!req.has_settings()) return absl::InvalidArgumentError("settings is required");
  std::vector<std::string> keys;
  CollectSetKeys(req.settings(), "", &keys);
  return settings.Change(method, ToScope(req.key()), keys);
}

}  // namespace

void IdentitySettingsApi::Register(rpc::Router& router) {
  router.Unary<au::UserInfoRequest, au::UserInfoResponse>(
      kIdentityService, "UserInfo",
      [](const rpc::CallContext&, const au::UserInfoRequest&, au::UserInfoResponse* resp) {
        // No authentication: one subject for every caller, said so in a claim rather than left for guessing.
        resp->set_subject(kAnonymousSubject);
        resp->set_name("Anonymous");
        resp->set_preferred_username(kAnonymousSubject);
        (*resp->mutable_additional_claims()->mutable_fields())["authenticated"].set_bool_value(false);
        return absl::OkStatus();
      });

  router.Unary<st::GetSettingsRequest, st::GetSettingsResponse>(
      kSettingsService, "GetSettings",
      [this](const rpc::CallContext&, const st::GetSettingsRequest& req, st::GetSettingsResponse* resp) {
        if (!req.has_key()) return absl::InvalidArgumentError("key is required");
        absl::StatusOr<SettingsLevel> level = settings_.Get(ToScope(req.key()));
        if (!level.ok()) return level.status();
        return ToRecord(*level, resp->mutable_settingsrecord());
      });

  router.Unary<st::GetSettingsForEditRequest, st::GetSettingsForEditResponse>(
      kSettingsService, "GetSettingsForEdit",
      [this](const rpc::CallContext&, const st::GetSettingsForEditRequest& req,
             st::GetSettingsForEditResponse* resp) {
        if (!req.has_key()) return absl::InvalidArgumentError("key is required");
        const SettingsScope scope = ToScope(req.key());
        absl::StatusOr<std::vector<SettingsLevel>> levels = settings_.GetForEdit(scope);
        if (!levels.ok()) return levels.status();
        ToKey(scope, resp->mutable_requestedkey());
        for (const SettingsLevel& level : *levels) {
          if (absl::Status s = ToRecord(level, resp->add_levels()); !s.ok()) return s;
        }
        return absl::OkStatus();
      });

  router.Unary<st::CreateSettingsRequest, st::CreateSettingsResponse>(
      kSettingsService, "CreateSettings",
      [this](const rpc::CallContext&, const st::CreateSettingsRequest& req, st::CreateSettingsResponse*) {
        return RefuseChange(settings_, "CreateSettings", req);
      });

  router.Unary<st::UpdateSettingsRequest, st::UpdateSettingsResponse>(
      kSettingsService, "UpdateSettings",
      [this](const rpc::CallContext&, const st::UpdateSettingsRequest& req, st::UpdateSettingsResponse*) {
        return RefuseChange(settings_, "UpdateSettings", req);
      });
}

}  // namespace flyte::runs::api
