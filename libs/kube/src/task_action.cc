#include "flyte/kube/task_action.h"

#include <cctype>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace flyte::kube {
namespace {

// FNV-1a, 64 bits: stable across builds and machines (names must not change when the binary does).
std::string Hash10(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 10);
}

bool IsDnsLabel(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

bool IsLabelValue(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() > 63) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return std::isalnum(static_cast<unsigned char>(s.front())) && std::isalnum(static_cast<unsigned char>(s.back()));
}

std::string Sanitised(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    char l = static_cast<char>(std::tolower(u));
    bool ok = std::islower(static_cast<unsigned char>(l)) || std::isdigit(u);
    if (ok) {
      out.push_back(l);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
    if (out.size() >= max) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string RefKey(const ActionRef& r) { return r.ToString(); }

}  // namespace

bool IsTerminalPhase(const std::string& phase) {
  return phase == kPhaseSucceeded || phase == kPhaseFailed || phase == kPhaseAborted || phase == kPhaseTimedOut;
}

std::string ActionRef::ToString() const { return absl::StrCat(org, "/", project, "/", domain, "/", run, "/", action); }

std::string DnsLabel(const std::string& text, size_t max, const std::string& hash_of) {
  if (hash_of.empty() && IsDnsLabel(text, max)) return text;
  std::string hash = Hash10(hash_of.empty() ? text : hash_of);
  std::string prefix = Sanitised(text, max - hash.size() - 1);
  return prefix.empty() ? absl::StrCat("x", hash) : absl::StrCat(prefix, "-", hash);
}

std::string LabelValue(const std::string& text) {
  if (IsLabelValue(text)) return text;
  return DnsLabel(text, 63);
}

std::string TaskActionName(const ActionRef& ref) { return DnsLabel(absl::StrCat(ref.run, "-", ref.action)); }

std::string TaskActionFallbackName(const ActionRef& ref) {
  return DnsLabel(absl::StrCat(ref.run, "-", ref.action), 63, RefKey(ref));
}

std::string PodName(const ActionRef& ref, int attempt) {
  std::string plain = absl::StrCat(ref.run, "-", ref.action, "-", attempt);
  if (IsDnsLabel(plain, 63)) return plain;
  return DnsLabel(plain, 63, absl::StrCat(RefKey(ref), "/", attempt));
}

Json ActionLabels(const ActionRef& ref) {
  return Json{{kLabelOrg, LabelValue(ref.org)},
              {kLabelProject, LabelValue(ref.project)},
              {kLabelDomain, LabelValue(ref.domain)},
              {kLabelRun, LabelValue(ref.run)},
              {kLabelAction, LabelValue(ref.action)}};
}

std::string RunSelector(const ActionRef& r) {
  return absl::StrCat(kLabelOrg, "=", LabelValue(r.org), ",", kLabelProject, "=", LabelValue(r.project), ",",
                      kLabelDomain, "=", LabelValue(r.domain), ",", kLabelRun, "=", LabelValue(r.run));
}

Json BuildTaskAction(const TaskActionSpec& s, const std::string& ns, const std::string& name,
                     const std::optional<OwnerRef>& owner) {
  Json labels = ActionLabels(s.ref);
  labels[kLabelIsRoot] = s.parent_action.empty() ? "true" : "false";
  if (!s.parent_action.empty()) labels[kLabelParent] = LabelValue(s.parent_action);
  labels[kLabelManagedBy] = kManagedByQueue;
  Json spec = {{"org", s.ref.org},
               {"project", s.ref.project},
               {"domain", s.ref.domain},
               {"runName", s.ref.run},
               {"actionName", s.ref.action},
               {"actionType", s.action_type},
               {"enqueueRequest", absl::Base64Escape(s.enqueue_request)}};
  if (!s.parent_action.empty()) spec["parentActionName"] = s.parent_action;
  if (!s.task_type.empty()) spec["taskType"] = s.task_type;
  if (!s.short_name.empty()) spec["shortName"] = s.short_name;
  if (!s.input_uri.empty()) spec["inputUri"] = s.input_uri;
  if (!s.run_output_base.empty()) spec["runOutputBase"] = s.run_output_base;
  if (!s.group.empty()) spec["group"] = s.group;
  if (s.enqueued_at) spec["enqueuedAt"] = FormatMicroTime(*s.enqueued_at);
  Json meta = {{"name", name}, {"namespace", ns}, {"labels", labels}, {"finalizers", Json::array({kExecutorFinalizer})}};
  if (owner) {
    meta["ownerReferences"] = Json::array({Json{{"apiVersion", kTaskActionApiVersion},
                                                {"kind", kTaskActionKind},
                                                {"name", owner->name},
                                                {"uid", owner->uid},
                                                {"blockOwnerDeletion", true}}});
  }
  return Json{{"apiVersion", kTaskActionApiVersion}, {"kind", kTaskActionKind}, {"metadata", meta}, {"spec", spec}};
}

absl::StatusOr<TaskActionSpec> ParseTaskActionSpec(const Json& object) {
  const std::string name = object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (!object.contains("spec") || !object["spec"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("TaskAction ", name, ": spec is missing"));
  }
  const Json& spec = object["spec"];
  auto str = [&](const char* key) -> std::string {
    auto it = spec.find(key);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  TaskActionSpec s;
  s.ref = ActionRef{str("org"), str("project"), str("domain"), str("runName"), str("actionName")};
  s.parent_action = str("parentActionName");
  s.action_type = str("actionType");
  s.task_type = str("taskType");
  s.short_name = str("shortName");
  s.input_uri = str("inputUri");
  s.run_output_base = str("runOutputBase");
  s.group = str("group");
  for (const char* required : {"project", "domain", "runName", "actionName", "actionType", "enqueueRequest"}) {
    if (str(required).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("TaskAction ", name, ": spec.", required, " is required"));
    }
  }
  if (std::string at = str("enqueuedAt"); !at.empty()) {
    if (absl::StatusOr<std::chrono::system_clock::time_point> t = ParseTime(at); t.ok()) s.enqueued_at = *t;
  }
  if (!absl::Base64Unescape(str("enqueueRequest"), &s.enqueue_request)) {
    return absl::InvalidArgumentError(absl::StrCat("TaskAction ", name, ": spec.enqueueRequest is not base64"));
  }
  return s;
}

}  // namespace flyte::kube
