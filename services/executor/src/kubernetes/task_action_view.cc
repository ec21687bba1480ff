#include "kubernetes/task_action_view.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "flyte/kube/client.h"

namespace flyte::executor::k8s {
namespace {

std::string Str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int Int(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

const Json& Field(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

Json TimeJson(TimePoint t) { return kube::FormatTime(t); }

}  // namespace

std::optional<TimePoint> JsonTime(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  std::string text = Str(object, key);
  if (text.empty()) return std::nullopt;
  absl::StatusOr<TimePoint> t = kube::ParseTime(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

Phase PhaseFromName(const std::string& name) {
  if (name == kube::kPhaseQueued) return Phase::kQueued;
  if (name == kube::kPhaseInitializing) return Phase::kInitializing;
  if (name == kube::kPhaseRunning) return Phase::kRunning;
  if (name == kube::kPhaseSucceeded) return Phase::kSucceeded;
  if (name == kube::kPhaseFailed) return Phase::kFailed;
  if (name == kube::kPhaseAborted) return Phase::kAborted;
  if (name == kube::kPhaseTimedOut) return Phase::kTimedOut;
  return Phase::kUnspecified;
}

const char* PhaseToName(Phase phase) {
  switch (phase) {
    case Phase::kQueued: return kube::kPhaseQueued;
    case Phase::kInitializing: return kube::kPhaseInitializing;
    case Phase::kRunning: return kube::kPhaseRunning;
    case Phase::kSucceeded: return kube::kPhaseSucceeded;
    case Phase::kFailed: return kube::kPhaseFailed;
    case Phase::kAborted: return kube::kPhaseAborted;
    case Phase::kTimedOut: return kube::kPhaseTimedOut;
    default: return "";
  }
}

const char* CacheStatusToName(CacheStatus status) {
  switch (status) {
    case CacheStatus::kDisabled: return "";
    case CacheStatus::kMiss: return "Miss";
    case CacheStatus::kHit: return "Hit";
    case CacheStatus::kPopulated: return "Populated";
    case CacheStatus::kLookupFailure: return "LookupFailure";
    case CacheStatus::kPutFailure: return "PutFailure";
    case CacheStatus::kSkipped: return "Skipped";
  }
  return "";
}

CacheStatus CacheStatusFromName(const std::string& name) {
  for (CacheStatus s : {CacheStatus::kMiss, CacheStatus::kHit, CacheStatus::kPopulated, CacheStatus::kLookupFailure,
                        CacheStatus::kPutFailure, CacheStatus::kSkipped}) {
    if (name == CacheStatusToName(s)) return s;
  }
  return CacheStatus::kDisabled;
}

Json TaskActionStatus::ToJson(bool for_merge_patch) const {
  Json out = Json::object();
  auto put = [&](const char* key, Json value, bool present) {
    if (present) {
      out[key] = std::move(value);
    } else if (for_merge_patch) {
      out[key] = nullptr;
    }
  };
  put("phase", phase, !phase.empty());
  out["attempt"] = attempt;
  put("podName", pod_name, !pod_name.empty());
  put("startedAt", started_at ? TimeJson(*started_at) : Json(), started_at.has_value());
  put("completedAt", completed_at ? TimeJson(*completed_at) : Json(), completed_at.has_value());
  out["systemFailures"] = system_failures;
  put("cacheStatus", CacheStatusToName(cache_status), cache_status != CacheStatus::kDisabled);
  put("outputsUri", outputs_uri, !outputs_uri.empty());
  put("cacheReservation", cache_reservation, !cache_reservation.empty());
  put("error",
      error ? Json{{"code", error->code},
                   {"kind", error->kind == ErrorKind::kSystem ? "system" : "user"},
                   {"message", error->message.substr(0, 4096)}}
            : Json(),
      error.has_value());
  Json hist = Json::array();
  for (const HistoryEntry& h : history) {
    Json e = {{"phase", h.phase}, {"attempt", h.attempt}, {"time", kube::FormatMicroTime(h.time)}};
    if (!h.message.empty()) e["message"] = h.message.substr(0, 1024);
    if (!h.error_code.empty()) {
      e["errorCode"] = h.error_code;
      e["errorKind"] = h.error_kind == ErrorKind::kSystem ? "system" : "user";
    }
    hist.push_back(std::move(e));
  }
  out["phaseHistory"] = std::move(hist);
  return out;
}

TaskActionStatus TaskActionStatus::FromJson(const Json& s) {
  TaskActionStatus out;
  if (!s.is_object()) return out;
  out.phase = Str(s, "phase");
  out.attempt = Int(s, "attempt");
  out.pod_name = Str(s, "podName");
  out.started_at = JsonTime(s, "startedAt");
  out.completed_at = JsonTime(s, "completedAt");
  out.system_failures = Int(s, "systemFailures");
  out.cache_status = CacheStatusFromName(Str(s, "cacheStatus"));
  out.outputs_uri = Str(s, "outputsUri");
  out.cache_reservation = Str(s, "cacheReservation");
  const Json& err = Field(s, "error");
  if (err.is_object()) {
    out.error = ActionError{Str(err, "code"), Str(err, "message"),
                            Str(err, "kind") == "system" ? ErrorKind::kSystem : ErrorKind::kUser, false};
  }
  const Json& hist = Field(s, "phaseHistory");
  if (hist.is_array()) {
    for (const Json& h : hist) {
      if (!h.is_object()) continue;
      out.history.push_back(HistoryEntry{Str(h, "phase"), std::max(1, Int(h, "attempt")),
                                         JsonTime(h, "time").value_or(TimePoint{}), Str(h, "message"),
                                         Str(h, "errorCode"),
                                         Str(h, "errorKind") == "system" ? ErrorKind::kSystem : ErrorKind::kUser});
    }
  }
  return out;
}

void TaskActionStatus::Append(const std::string& p, int a, TimePoint t, std::string message,
                              const ActionError* error) {
  history.push_back(HistoryEntry{p, a, t, std::move(message), error ? error->code : "",
                                 error ? error->kind : ErrorKind::kUser});
  if (history.size() > kMaxHistory) history.erase(history.begin(), history.end() - kMaxHistory);
}

const HistoryEntry* TaskActionStatus::LastOf(int a) const {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->attempt == a) return &*it;
  }
  return nullptr;
}

absl::StatusOr<TaskActionView> TaskActionView::FromJson(const Json& object) {
  const Json& meta = Field(object, "metadata");
  TaskActionView v;
  v.name = Str(meta, "name");
  if (v.name.empty()) return absl::InvalidArgumentError("a TaskAction without metadata.name");
  v.uid = Str(meta, "uid");
  v.resource_version = Str(meta, "resourceVersion");
  v.created = JsonTime(meta, "creationTimestamp").value_or(TimePoint{});
  v.deletion = JsonTime(meta, "deletionTimestamp");
  const Json& finalizers = Field(meta, "finalizers");
  if (finalizers.is_array()) {
    for (const Json& f : finalizers) {
      if (!f.is_string()) continue;
      v.finalizers.push_back(f.get<std::string>());
      v.has_finalizer = v.has_finalizer || v.finalizers.back() == kube::kExecutorFinalizer;
    }
  }
  v.abort_reason = Str(Field(meta, "annotations"), kAbortReasonAnnotation);
  absl::StatusOr<kube::TaskActionSpec> spec = kube::ParseTaskActionSpec(object);
  if (!spec.ok()) return spec.status();
  v.ref = spec->ref;
  v.parent = spec->parent_action;
  v.action_type = spec->action_type;
  v.run_output_base = spec->run_output_base;
  v.enqueued_at = spec->enqueued_at;
  v.status = TaskActionStatus::FromJson(Field(object, "status"));
  if (!v.ended()) {
    v.enqueue_request = std::move(spec->enqueue_request);
  } else if (!v.has_finalizer && v.status.history.size() > 1) {
    v.status.history.erase(v.status.history.begin(), v.status.history.end() - 1);
    v.status.history.shrink_to_fit();
  }
  return v;
}

PodView PodView::FromJson(const Json& object) {
  PodView p;
  const Json& meta = Field(object, "metadata");
  p.name = Str(meta, "name");
  p.uid = Str(meta, "uid");
  p.created = JsonTime(meta, "creationTimestamp").value_or(TimePoint{});
  p.deleting = meta.is_object() && meta.contains("deletionTimestamp");
  const Json& labels = Field(meta, "labels");
  p.task_action = Str(labels, kube::kLabelTaskAction);
  p.attempt = std::atoi(Str(labels, kube::kLabelAttempt).c_str());
  p.primary = Str(Field(meta, "annotations"), "flyte.org/primary-container");
  p.task_tmp_on_volume = !Str(Field(meta, "annotations"), kTaskTmpAnnotation).empty();
  const Json& status = Field(object, "status");
  p.phase = Str(status, "phase");
  p.reason = Str(status, "reason");
  p.message = Str(status, "message");
  const Json& containers = Field(status, "containerStatuses");
  if (containers.is_array()) {
    for (const Json& c : containers) {
      if (!p.primary.empty() && Str(c, "name") != p.primary) continue;
      const Json& state = Field(c, "state");
      if (const Json& running = Field(state, "running"); running.is_object()) {
        p.running_since = JsonTime(running, "startedAt");
      }
      if (const Json& term = Field(state, "terminated"); term.is_object()) {
        p.exit_code = Int(term, "exitCode");
        p.terminated_reason = Str(term, "reason");
        p.terminated_message = Str(term, "message");
      }
      if (const Json& waiting = Field(state, "waiting"); waiting.is_object()) {
        p.waiting_reason = Str(waiting, "reason");
        p.waiting_message = Str(waiting, "message");
      }
      break;
    }
  }
  if (p.phase == "Running" && !p.running_since) p.running_since = JsonTime(status, "startTime");
  return p;
}

}  // namespace flyte::executor::k8s
