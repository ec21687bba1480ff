#include "service/task_cache.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "flyte/common/digest.h"
#include "runtime/attempt_layout.h"
#include "runtime/output_localizer.h"
#include "runtime/task_launch.h"

namespace flyte::executor {
namespace {

namespace fs = std::filesystem;

std::string Describe(const CacheIdentity& id) {
  return absl::StrCat("key ", id.key, id.version.empty() ? "" : absl::StrCat(", version ", id.version));
}

}  // namespace

std::string CacheOwnerId(const ActionKey& key) { return key.ToString(); }

TaskCache::TaskCache(CacheClient& client, TaskCacheOptions options, Run run, Deliver deliver)
    : client_(client), options_(std::move(options)), run_(std::move(run)), deliver_(std::move(deliver)) {
  thread_ = std::thread([this] { Loop(); });
}

TaskCache::~TaskCache() { Shutdown(); }

void TaskCache::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  jobs_.clear();
}

size_t TaskCache::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::optional<ActionToRun> TaskCache::Admit(ActionToRun action) {
  absl::StatusOr<TaskToRun> task = ParseTask(action);
  if (!task.ok()) return action;  // the runtime reports InvalidTask
  absl::StatusOr<std::optional<CacheIdentity>> id = ResolveCacheIdentity(action, task->tmpl, options_.default_org);
  if (!id.ok()) {
    // No key can be made (its inputs are unreadable): the task runs uncached and reports what is wrong.
    FLYTE_LOG(kWarn, "{}: not cached: {}", action.key.ToString(), id.status().ToString());
    return action;
  }
  if (!id->has_value()) return action;
  const ActionKey key = action.key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return action;
    Entry e;
    e.action = std::move(action);
    e.id = std::move(**id);
    entries_.insert_or_assign(key, std::move(e));
  }
  Post([this, key] { Look(key); });
  return std::nullopt;
}

void TaskCache::Post(std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(job));
  cv_.notify_all();
}

void TaskCache::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const auto& [key, e] : entries_) {
      const bool timed = e.state == State::kWaiting || (e.state == State::kRunning && e.holds_reservation);
      if (timed) next = std::min(next, e.due);
    }
    if (jobs_.empty()) {
      if (next == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      } else {
        cv_.wait_until(lock, next, [this] { return stopping_ || !jobs_.empty(); });
      }
      if (stopping_) break;
    }
    std::deque<std::function<void()>> jobs;
    jobs.swap(jobs_);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [key, e] : entries_) {
      if (e.due > now) continue;
      if (e.state == State::kWaiting) {
        e.due = std::chrono::steady_clock::time_point::max();  // one look at a time
        jobs.push_back([this, k = key] { Look(k); });
      } else if (e.state == State::kRunning && e.holds_reservation) {
        e.due = now + options_.reservation_heartbeat;
        jobs.push_back([this, k = key] { Heartbeat(k); });
      }
    }
    lock.unlock();
    for (std::function<void()>& job : jobs) job();
    lock.lock();
  }
}

void TaskCache::Look(const ActionKey& key) {
  CacheIdentity id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || (it->second.state != State::kLookingUp && it->second.state != State::kWaiting)) return;
    id = it->second.id;
  }
  CacheDecision d = DecideCache(client_, id, key, options_.reservation_heartbeat);
  switch (d.kind) {
    case CacheDecision::Kind::kHit: return Hit(key, d.output_uri);
    case CacheDecision::Kind::kWait: return Wait(key, d.holder);
    case CacheDecision::Kind::kRun: return StartRun(key, id, d.status, d.holds_reservation);
  }
}

void TaskCache::StartRun(const ActionKey& key, const CacheIdentity& id, CacheStatus status, bool holds_reservation) {
  ActionToRun action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      // Aborted or forgotten meanwhile: nothing runs, so nobody may wait on its reservation.
      if (holds_reservation) ReleaseLater(id, CacheOwnerId(key));
      return;
    }
    Entry& e = it->second;
    e.state = State::kRunning;
    e.status = status;
    e.holds_reservation = holds_reservation;
    e.due = std::chrono::steady_clock::now() + options_.reservation_heartbeat;
    action = e.action;
  }
  run_(std::move(action));
}

void TaskCache::Hit(const ActionKey& key, const std::string& output_uri) {
  ActionTransition t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    const Entry& e = it->second;
    t.key = key;
    t.attempt = e.action.attempt;
    t.phase = Phase::kSucceeded;
    t.time = options_.clock->Now();
    t.output_uri = output_uri;
    t.cache_status = CacheStatus::kHit;
    t.cluster_event = CacheHitEvent(e.id);
    t.final = true;
    entries_.erase(it);
  }
  deliver_(t);
}

void TaskCache::Wait(const ActionKey& key, const std::string& holder) {
  ActionTransition t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    e.state = State::kWaiting;
    e.due = std::chrono::steady_clock::now() + options_.wait_poll;
    if (e.announced_wait) return;
    e.announced_wait = true;
    t.key = key;
    t.attempt = e.action.attempt;
    t.phase = Phase::kInitializing;
    t.time = options_.clock->Now();
    t.cache_status = CacheStatus::kMiss;
    t.cluster_event = CacheWaitEvent(e.id, holder);
  }
  deliver_(t);
}

void TaskCache::Heartbeat(const ActionKey& key) {
  CacheIdentity id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.state != State::kRunning || !it->second.holds_reservation) return;
    id = it->second.id;
  }
  ExtendCacheReservation(client_, id, key, options_.reservation_heartbeat);
}

bool TaskCache::Intercept(ActionTransition& t) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(t.key);
  if (it == entries_.end() || it->second.state != State::kRunning) return false;
  Entry& e = it->second;
  t.cache_status = e.status;
  if (!t.final) return false;
  if (t.phase == Phase::kSucceeded) {
    e.state = State::kRecording;
    jobs_.push_back([this, t] { Record(t); });
    cv_.notify_all();
    return true;
  }
  // Failed: release so a waiting identical action takes over at once instead of at expiry.
  if (e.holds_reservation) ReleaseLater(e.id, CacheOwnerId(t.key));
  entries_.erase(it);
  return false;
}

void TaskCache::Record(ActionTransition t) {
  CacheIdentity id;
  bool holds = false;
  CacheStatus running = CacheStatus::kMiss;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(t.key);
    if (it == entries_.end()) return;  // forgotten (lease lost) meanwhile: not ours to report
    id = it->second.id;
    holds = it->second.holds_reservation;
    running = t.cache_status;
  }
  CacheRecordOutcome outcome =
      RecordCachedOutputs(client_, options_.data_root, id, t.key, t.attempt, t.output_uri, running, holds);
  t.cache_status = outcome.status;
  t.cluster_event += outcome.event;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(t.key);
  }
  deliver_(t);
}

bool TaskCache::Abort(const ActionKey& key, const std::string& reason) {
  ActionTransition t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    const Entry& e = it->second;
    if (e.state != State::kLookingUp && e.state != State::kWaiting) return false;
    t.key = key;
    t.attempt = e.action.attempt;
    t.phase = Phase::kAborted;
    t.time = options_.clock->Now();
    t.error = ActionError{"Aborted", reason.empty() ? "aborted" : reason, ErrorKind::kUser, false};
    t.cluster_event = absl::StrCat("aborted while waiting for the task cache: ", t.error->message);
    t.final = true;
    entries_.erase(it);
  }
  deliver_(t);
  return true;
}

void TaskCache::Forget(const ActionKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.holds_reservation) ReleaseLater(it->second.id, CacheOwnerId(key));
  entries_.erase(it);
}

void TaskCache::ReleaseLater(const CacheIdentity& id, const std::string& owner) {
  // Under mu_.
  jobs_.push_back([this, id, owner] { (void)client_.Release(id, owner); });
  cv_.notify_all();
}

std::string CacheHitEvent(const CacheIdentity& id) {
  return absl::StrCat("outputs taken from the task cache (", Describe(id), "): nothing ran");
}

std::string CacheWaitEvent(const CacheIdentity& id, const std::string& holder) {
  return absl::StrCat("waiting for ", holder, ", which computes the same cached outputs (", Describe(id),
                      ", serialize=True)");
}

CacheDecision DecideCache(CacheClient& client, const CacheIdentity& id, const ActionKey& key,
                          std::chrono::milliseconds heartbeat) {
  CacheDecision d;
  auto run = [&d](CacheStatus status, bool holds) {
    d.kind = CacheDecision::Kind::kRun;
    d.status = status;
    d.holds_reservation = holds;
    return d;
  };
  auto hit = [&d](std::string uri) {
    d.kind = CacheDecision::Kind::kHit;
    d.output_uri = std::move(uri);
    return d;
  };
  const std::string owner = CacheOwnerId(key);
  if (!id.overwrite) {
    absl::StatusOr<std::string> found = client.Get(id);
    if (found.ok()) return hit(*found);
    if (found.status().code() != absl::StatusCode::kNotFound) {
      FLYTE_LOG(kWarn, "{}: cache lookup failed ({}); running it", key.ToString(), found.status().ToString());
      return run(CacheStatus::kLookupFailure, false);
    }
  }
  if (!id.serialize) return run(CacheStatus::kMiss, false);
  absl::StatusOr<CacheReservationHolder> holder = client.Reserve(id, owner, heartbeat);
  if (!holder.ok()) {
    FLYTE_LOG(kWarn, "{}: cache reservation failed ({}); running it", key.ToString(), holder.status().ToString());
    return run(CacheStatus::kLookupFailure, false);
  }
  if (holder->owner_id != owner) {
    d.kind = CacheDecision::Kind::kWait;
    d.holder = holder->owner_id;
    return d;
  }
  if (!id.overwrite) {
    // The previous holder may have recorded its outputs and released between our lookup and our reservation.
    absl::StatusOr<std::string> found = client.Get(id);
    if (found.ok()) {
      (void)client.Release(id, owner);
      return hit(*found);
    }
  }
  return run(CacheStatus::kMiss, true);
}

void ExtendCacheReservation(CacheClient& client, const CacheIdentity& id, const ActionKey& key,
                            std::chrono::milliseconds heartbeat) {
  absl::StatusOr<CacheReservationHolder> holder = client.Reserve(id, CacheOwnerId(key), heartbeat);
  if (!holder.ok()) {
    FLYTE_LOG(kWarn, "{}: extending the cache reservation failed: {}", key.ToString(), holder.status().ToString());
  } else if (holder->owner_id != CacheOwnerId(key)) {
    FLYTE_LOG(kWarn, "{}: the cache reservation expired and is now held by {}", key.ToString(), holder->owner_id);
  }
}

namespace {

// Copies the attempt's outputs into the cache area; the copy's file:// prefix.
absl::StatusOr<std::string> CopyOutputs(const std::string& data_root, const CacheIdentity& id, const ActionKey& key,
                                        int attempt, const std::string& output_uri) {
  absl::StatusOr<std::string> source = LocalPathFromUri(output_uri);
  if (!source.ok()) return source.status();
  const std::string scope = absl::StrCat(id.scope_org, "/", id.scope_project, "/", id.scope_domain);
  const fs::path dir = fs::path(data_root) / ".cache" /
                       common::HexEncode(common::Sha256(absl::StrCat(scope, "\n", id.key))) /
                       absl::StrCat(key.run_name, "-", key.action_name, "-", attempt);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  const fs::path outputs = fs::path(*source) / "outputs.pb";
  if (fs::exists(outputs, ec)) {
    fs::copy_file(outputs, dir / "outputs.pb", fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot copy ", outputs.string(), ": ", ec.message()));
    // Every file the outputs name (the run's raw data, offloaded values) moves into the entry too.
    OutputBlobPolicy policy;
    policy.shared_roots = {dir.string()};
    policy.copy_into = dir.string();
    absl::StatusOr<OutputBlobChanges> copied = LocalizeOutputBlobs((dir / "outputs.pb").string(), policy);
    if (!copied.ok()) return copied.status();
  }
  return ToFileUri(dir.string());
}

}  // namespace

CacheRecordOutcome RecordCachedOutputs(CacheClient& client, const std::string& data_root, const CacheIdentity& id,
                                       const ActionKey& key, int attempt, const std::string& output_uri,
                                       CacheStatus running, bool holds_reservation) {
  CacheRecordOutcome out;
  absl::StatusOr<std::string> copy = CopyOutputs(data_root, id, key, attempt, output_uri);
  absl::Status put = copy.ok() ? client.Put(id, *copy, key, id.overwrite) : copy.status();
  if (put.code() == absl::StatusCode::kAlreadyExists) {
    // Our own copy, recorded by an earlier try whose report did not get out (a retried status write).
    absl::StatusOr<std::string> entry = client.Get(id);
    if (entry.ok() && *entry == *copy) put = absl::OkStatus();
  }
  if (put.ok()) {
    out.status = CacheStatus::kPopulated;
    out.event = absl::StrCat("; outputs recorded in the task cache (", Describe(id), ")");
  } else if (put.code() == absl::StatusCode::kAlreadyExists) {
    // An identical action (not serialized) recorded first; its entry stands.
    out.status = running;
    out.event = absl::StrCat("; the task cache already held these outputs (", Describe(id), ")");
  } else {
    out.status = CacheStatus::kPutFailure;
    out.event = absl::StrCat("; recording the outputs in the task cache failed: ", put.message());
    FLYTE_LOG(kWarn, "{}: recording its outputs in the task cache failed: {}", key.ToString(), put.ToString());
  }
  if (holds_reservation) (void)client.Release(id, CacheOwnerId(key));
  return out;
}

}  // namespace flyte::executor
