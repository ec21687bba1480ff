#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "service/executor.h"

// Keeping leases: heartbeats (renewal, the abort flag, losing a lease), queue-service's abort stream, fencing.

namespace flyte::executor {

bool Executor::AbortDueLocked(Held& h, bool requested, const std::string& reason) {
  if (requested && !h.abort_requested) {
    h.abort_requested = true;
    h.abort_reason = reason;
  }
  // Not submitted yet: StartLease sees the flag and records ABORTED without running anything.
  if (!h.abort_requested || !h.submitted || h.abort_sent || h.final_seen || h.fenced) return false;
  h.abort_sent = true;
  return true;
}

void Executor::StopAborted(const std::string& lease_id, const std::string& reason) {
  ActionKey key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(lease_id);
    if (it == held_.end()) return;
    key = it->second.key;
  }
  if (runtime_->Abort(key, reason).code() != absl::StatusCode::kNotFound) return;
  // Still looking up or waiting in the task cache: ABORTED from there.
  if (cache_ && cache_->Abort(key, reason)) return;
  // Submitted under the lock but not yet handed to the runtime: the next heartbeat or push tries again.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(lease_id);
  if (it != held_.end() && !it->second.final_seen) it->second.abort_sent = false;
}

void Executor::AbortWatchLoop() {
  constexpr std::chrono::milliseconds kFirstBackoff(100), kMaxBackoff(5000), kUnimplementedWait(60000);
  std::chrono::milliseconds backoff = kFirstBackoff;
  int failures = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    bool was_live = false;
    absl::Status ended = leases_.WatchAborts(
        [this, &was_live] {
          was_live = true;
          abort_stream_live_ = true;
        },
        [this](const AbortPush& push) {
          bool due = false;
          std::string reason;
          {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = held_.find(push.lease_id);
            if (it == held_.end()) return;  // already Completed, or never ours
            due = AbortDueLocked(it->second, true, push.reason);
            reason = it->second.abort_reason.empty() ? "aborted" : it->second.abort_reason;
          }
          if (due) StopAborted(push.lease_id, reason);
        });
    abort_stream_live_ = false;
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    std::chrono::milliseconds wait = backoff;
    if (was_live) {
      backoff = kFirstBackoff;
      failures = 0;
      wait = kFirstBackoff;
    } else {
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
    if (ended.code() == absl::StatusCode::kUnimplemented) wait = kUnimplementedWait;  // heartbeats carry aborts
    if (failures++ % 20 == 0) {
      FLYTE_LOG(kInfo, "abort stream from queue-service ended ({}); reopening in {}ms (heartbeats carry aborts "
                "meanwhile)", ended.ToString(), wait.count());
    }
    cv_.wait_for(lock, wait, [this] { return stopping_; });
  }
}

void Executor::Fence(const std::string& lease_id, const std::string& why) {
  ActionKey key;
  bool kill_it = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(lease_id);
    if (it == held_.end() || it->second.fenced) return;
    Held& h = it->second;
    h.fenced = true;
    key = h.key;
    kill_it = h.submitted && !h.final_seen;
  }
  FLYTE_LOG(kWarn, "lease {} of {} lost ({}): stopping its process at once", lease_id, key.ToString(), why);
  // Not submitted yet: StartLease sees the flag. Already final: its Complete will be refused, then forgotten.
  if (kill_it && runtime_->Kill(key, absl::StrCat("lease lost: ", why)).code() == absl::StatusCode::kNotFound) {
    Forget(lease_id);
  }
}

void Executor::HeartbeatLoop() {
  while (true) {
    std::vector<std::string> ids;
    {
      std::unique_lock<std::mutex> lock(mu_);
      std::chrono::milliseconds interval = options_.heartbeat_interval;
      if (interval.count() <= 0) {
        interval = lease_duration_.count() > 0 ? lease_duration_ / 3 : std::chrono::milliseconds(1000);
      }
      interval = std::clamp(interval, std::chrono::milliseconds(50), std::chrono::milliseconds(10000));
      if (cv_.wait_for(lock, interval, [this] { return stopping_; })) return;
      for (const auto& [id, h] : held_) {
        if (!h.fenced) ids.push_back(id);
      }
    }
    if (ids.empty()) continue;
    absl::StatusOr<HeartbeatResult> r = leases_.Heartbeat(ids);
    std::vector<std::pair<std::string, std::string>> aborts;  // lease id, reason
    std::vector<std::pair<std::string, std::string>> fence;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (r.ok()) {
        for (const LeaseRenewal& renewal : r->renewed) {
          auto it = held_.find(renewal.id);
          if (it == held_.end()) continue;
          Held& h = it->second;
          h.expires_at = renewal.expires_at;
          if (AbortDueLocked(h, renewal.abort_requested, renewal.abort_reason)) {
            aborts.emplace_back(renewal.id, h.abort_reason.empty() ? "aborted" : h.abort_reason);
          }
        }
        for (const std::string& id : r->lost) fence.emplace_back(id, "queue-service reports it expired");
      } else {
        FLYTE_LOG(kWarn, "heartbeat to queue-service failed: {}", r.status().ToString());
        // Without renewal a lease is gone at its expiry, whether or not we hear about it: stop in time.
        const common::TimePoint now = options_.runtime.clock->Now();
        for (const auto& [id, h] : held_) {
          if (!h.fenced && h.expires_at <= now) fence.emplace_back(id, "expired without renewal");
        }
      }
    }
    for (auto& [id, reason] : aborts) StopAborted(id, reason);
    for (auto& [id, why] : fence) Fence(id, why);
  }
}

}  // namespace flyte::executor
