// TaskActionCache, and the controller's steps that use it (TaskActionController::StartFirstAttempt, ...): the
// reconcile (task_action_reconcile.cc) only calls them.
#include "kubernetes/task_action_cache.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "clients/action_decoding.h"
#include "flyte/app/log.h"
#include "flyte/kube/task_action.h"
#include "flyteidl2/workflow/queue_service.pb.h"
#include "kubernetes/task_action_controller.h"
#include "service/task_cache.h"

namespace flyte::executor::k8s {

using std::chrono::milliseconds;

TaskActionCache::TaskActionCache(CacheClient* client, TaskActionCacheOptions options)
    : client_(client), options_(std::move(options)) {}

std::string TaskActionCache::DisabledReason() const {
  if (client_ == nullptr) return "no cache service";
  if (!options_.pods_share_data) {
    return "task Pods mount no shared data volume (executor.kubernetes.dataVolumeClaim is empty)";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(options_.data_root, ec)) {
    return absl::StrCat("the data volume is not mounted at the executor's data root ", options_.data_root);
  }
  return "";
}

std::optional<TaskActionCache::Cached> TaskActionCache::Identity(const TaskActionView& ta) const {
  if (ta.enqueue_request.empty()) return std::nullopt;
  flyteidl2::workflow::EnqueueActionRequest request;
  if (!request.ParseFromString(ta.enqueue_request)) return std::nullopt;
  const flyteidl2::core::TaskTemplate& tmpl = request.task().spec().task_template();
  if (!tmpl.metadata().discoverable() || !DisabledReason().empty()) return std::nullopt;
  absl::StatusOr<ActionToRun> action = DecodeEnqueuedAction(request);
  if (!action.ok()) return std::nullopt;  // the reconcile fails it as InvalidTask
  absl::StatusOr<std::optional<CacheIdentity>> id = ResolveCacheIdentity(*action, tmpl, options_.default_org);
  if (!id.ok()) {
    // No key can be made (its inputs are unreadable): the task runs uncached, as on the local runtime.
    FLYTE_LOG(kWarn, "{}: not cached: {}", action->key.ToString(), id.status().ToString());
    return std::nullopt;
  }
  if (!id->has_value()) return std::nullopt;
  return Cached{std::move(**id), action->key};
}

TaskActionCache::Decision TaskActionCache::BeforeFirstPod(const TaskActionView& ta, const Cached& c, TimePoint now) {
  Decision d;
  d.next = ta.status;
  if (ta.status.cache_status != CacheStatus::kDisabled && ta.status.cache_reservation != kCacheWaiting) {
    d.run = true;  // decided before (this process or an earlier leader): the Pod follows
    return d;
  }
  CacheDecision decision = DecideCache(*client_, c.id, c.key, options_.heartbeat);
  TaskActionStatus& st = d.next;
  switch (decision.kind) {
    case CacheDecision::Kind::kHit:
      Drop(ta.uid);
      st.phase = kube::kPhaseSucceeded;
      st.attempt = 1;
      st.completed_at = now;
      st.error.reset();
      st.cache_status = CacheStatus::kHit;
      st.outputs_uri = decision.output_uri;
      st.cache_reservation.clear();
      st.Append(kube::kPhaseSucceeded, 1, now, CacheHitEvent(c.id));
      d.write = true;
      return d;
    case CacheDecision::Kind::kRun: {
      std::lock_guard<std::mutex> lock(mu_);
      waits_.erase(ta.uid);
      if (decision.holds_reservation) extended_[ta.uid] = std::chrono::steady_clock::now();
      st.cache_status = decision.status;
      st.cache_reservation = decision.holds_reservation ? kCacheHeld : "";
      d.write = d.run = true;
      return d;
    }
    case CacheDecision::Kind::kWait: {
      int looks;
      {
        std::lock_guard<std::mutex> lock(mu_);
        looks = waits_[ta.uid]++;
      }
      d.look_again = std::min(options_.wait_poll * (1 << std::min(looks, 3)), options_.wait_poll * 8);
      if (ta.status.cache_reservation != kCacheWaiting) {
        st.phase = kube::kPhaseInitializing;
        st.cache_status = CacheStatus::kMiss;
        st.cache_reservation = kCacheWaiting;
        st.Append(kube::kPhaseInitializing, 1, now, CacheWaitEvent(c.id, decision.holder));
        d.write = true;
      }
      return d;
    }
  }
  return d;
}

milliseconds TaskActionCache::KeepReservation(const TaskActionView& ta, const Cached& c) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& last = extended_[ta.uid];
    // After a restart or a change of leader nothing was extended here yet: at once.
    if (last != std::chrono::steady_clock::time_point{} && now - last < options_.heartbeat) {
      return std::chrono::duration_cast<milliseconds>(options_.heartbeat - (now - last));
    }
    last = now;
  }
  ExtendCacheReservation(*client_, c.id, c.key, options_.heartbeat);
  return options_.heartbeat;
}

std::string TaskActionCache::Record(const TaskActionView& ta, const Cached& c, const std::string& output_uri,
                                    TaskActionStatus& st) {
  CacheRecordOutcome outcome = RecordCachedOutputs(*client_, options_.data_root, c.id, c.key, std::max(1, st.attempt),
                                                   output_uri, st.cache_status, st.cache_reservation == kCacheHeld);
  st.cache_status = outcome.status;
  st.cache_reservation.clear();
  Drop(ta.uid);
  return outcome.event;
}

void TaskActionCache::Release(const TaskActionView& ta, const Cached& c, TaskActionStatus& st) {
  if (st.cache_reservation == kCacheHeld) (void)client_->Release(c.id, CacheOwnerId(c.key));
  st.cache_reservation.clear();
  Drop(ta.uid);
}

void TaskActionCache::Drop(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  extended_.erase(uid);
  waits_.erase(uid);
}

// The controller's side.

absl::Status TaskActionController::StartFirstAttempt(const TaskActionView& ta, const ActionToRun& action,
                                                     const TaskToRun& task) {
  // Uncached tasks (most) skip parsing the request again.
  std::optional<TaskActionCache::Cached> cached;
  if (task.tmpl.metadata().discoverable()) cached = cache_.Identity(ta);
  if (!cached) return StartAttempt(ta, ta.status, action, task, 1);
  TaskActionCache::Decision d = cache_.BeforeFirstPod(ta, *cached, clock_.Now());
  if (d.look_again) queue_.AddAfter(ta.name, *d.look_again);
  if (!d.write) return d.run ? StartAttempt(ta, ta.status, action, task, 1) : absl::OkStatus();
  if (absl::Status s = WriteStatusAndReport(ta, d.next); !s.ok()) return s;
  if (!d.run) return absl::OkStatus();
  // The decision is written down (a restart does not look again): the Pod follows, from the status just written.
  TaskActionView written;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actions_.find(ta.name);
    if (it == actions_.end() || it->second.status.cache_status == CacheStatus::kDisabled) return absl::OkStatus();
    written = it->second;
  }
  return StartAttempt(written, written.status, action, task, 1);
}

void TaskActionController::KeepCacheReservation(const TaskActionView& ta) {
  if (ta.status.cache_reservation != kCacheHeld) return;
  if (std::optional<TaskActionCache::Cached> cached = cache_.Identity(ta)) {
    queue_.AddAfter(ta.name, cache_.KeepReservation(ta, *cached));
  }
}

std::string TaskActionController::RecordInCache(const TaskActionView& ta, const std::string& output_uri,
                                                TaskActionStatus& st) {
  if (st.cache_status != CacheStatus::kMiss && st.cache_status != CacheStatus::kLookupFailure) return "";
  std::optional<TaskActionCache::Cached> cached = cache_.Identity(ta);
  return cached ? cache_.Record(ta, *cached, output_uri, st) : std::string();
}

void TaskActionController::ReleaseCacheOnEnd(const TaskActionView& ta, TaskActionStatus& st) {
  if (!kube::IsTerminalPhase(st.phase) || st.cache_reservation.empty()) return;
  if (std::optional<TaskActionCache::Cached> cached = cache_.Identity(ta)) {
    cache_.Release(ta, *cached, st);
  } else {
    st.cache_reservation.clear();
  }
}

CacheStatus TaskActionController::ReportedCacheStatus(const TaskActionView& ta) const {
  if (ta.status.cache_status != CacheStatus::kDisabled) return ta.status.cache_status;
  if (ta.enqueue_request.empty() || cache_.DisabledReason().empty()) return CacheStatus::kDisabled;
  // Cached, but the cache does not apply on this executor: it runs every time, and says so.
  flyteidl2::workflow::EnqueueActionRequest request;
  const bool discoverable =
      request.ParseFromString(ta.enqueue_request) && request.task().spec().task_template().metadata().discoverable();
  return discoverable ? CacheStatus::kSkipped : CacheStatus::kDisabled;
}

}  // namespace flyte::executor::k8s
