#pragma once
// The task output cache as the executor applies it, whatever runtime then runs the task:
//
//   Admit (a leased action whose task template is discoverable; see runtime/cache_identity.h for the key)
//     -> look the key up (CacheClient.Get), unless the run asked to overwrite:
//          hit   -> SUCCEEDED at once with the cached outputs, cache status CACHE_HIT; nothing runs
//          miss  -> serialize (cache_serializable) ? take the key's reservation : run
//                   reservation held by another action -> INITIALIZING "waiting for ...", then look again every
//                   wait_poll: its outputs (hit), or the reservation free or expired (take it and run)
//     -> run: the runtime's transitions carry CACHE_MISS (CACHE_LOOKUP_FAILURE when the cache could not be
//        asked); a final SUCCEEDED is held back until its outputs are copied into the cache area and recorded
//        (Put), then delivered with CACHE_POPULATED (CACHE_PUT_FAILURE when recording failed); the reservation is
//        extended every reservation_heartbeat while the task runs and released when it ends.
//
// Cached outputs are COPIED: outputs.pb, and every file or directory its literals name, go to
// <data_root>/.cache/<sha256 of scope and key>/<run>-<action>-<attempt>/ (blobs under localized/), and the entry
// names that directory. Deleting or cleaning up the run that made them leaves the entry readable.
//
// Thread-safe. RPCs and copies happen on the cache's own thread, never on the caller's; `run` and `deliver` are
// called from that thread (or, for Intercept's pass-through, not at all). Shutdown (also the destructor) stops
// the thread and drops waiting actions without reporting them (their leases are given back by the executor).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "clients/cache_client.h"
#include "flyte/common/clock.h"
#include "runtime/action.h"
#include "runtime/cache_identity.h"

namespace flyte::executor {

struct TaskCacheOptions {
  std::string data_root;                                   // absolute; cached outputs go to <data_root>/.cache
  std::string default_org;                                 // stands in for an empty org in the cache scope
  std::chrono::milliseconds reservation_heartbeat{5000};   // serialize: extension period (expiry: 3x this)
  std::chrono::milliseconds wait_poll{1000};               // serialize: a waiting action looks again this often
  const common::Clock* clock = &common::Clock::System();
};

class TaskCache {
 public:
  using Run = std::function<void(ActionToRun)>;
  using Deliver = std::function<void(const ActionTransition&)>;

  // `client` must outlive the cache.
  TaskCache(CacheClient& client, TaskCacheOptions options, Run run, Deliver deliver);
  ~TaskCache();
  TaskCache(const TaskCache&) = delete;
  TaskCache& operator=(const TaskCache&) = delete;

  // Takes the action when its task is cached (its outcome then follows through `run` or `deliver`); otherwise
  // hands it back untouched.
  std::optional<ActionToRun> Admit(ActionToRun action);
  // For a transition of an action the cache let run: stamps its cache status. True when the cache keeps it (a
  // final SUCCEEDED, delivered once its outputs are recorded); false: the caller delivers `t` as stamped.
  bool Intercept(ActionTransition& t);
  // An action still looking up or waiting here: ABORTED is delivered and true returned. False otherwise.
  bool Abort(const ActionKey& key, const std::string& reason);
  // Drops the action without reporting (its lease is gone), releasing its reservation.
  void Forget(const ActionKey& key);
  void Shutdown();

  size_t pending() const;

 private:
  enum class State { kLookingUp, kWaiting, kRunning, kRecording };
  struct Entry {
    ActionToRun action;
    CacheIdentity id;
    State state = State::kLookingUp;
    CacheStatus status = CacheStatus::kMiss;
    bool holds_reservation = false;
    bool announced_wait = false;
    std::chrono::steady_clock::time_point due{};  // kWaiting: next look; kRunning with a reservation: heartbeat
  };

  void Loop();
  void Post(std::function<void()> job);
  void Look(const ActionKey& key);
  void Heartbeat(const ActionKey& key);
  void Record(ActionTransition t);
  void StartRun(const ActionKey& key, const CacheIdentity& id, CacheStatus status, bool holds_reservation);
  void Hit(const ActionKey& key, const std::string& output_uri);
  void Wait(const ActionKey& key, const std::string& holder);
  void ReleaseLater(const CacheIdentity& id, const std::string& owner);

  CacheClient& client_;
  const TaskCacheOptions options_;
  const Run run_;
  const Deliver deliver_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<ActionKey, Entry> entries_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// The reservation owner of an action: its key (a retry, or another executor after a lost lease, holds it again).
std::string CacheOwnerId(const ActionKey& key);

// The cache's steps, shared by both runtimes: TaskCache (local processes) sequences them on its thread, the
// Kubernetes controller (kubernetes/task_action_cache.h) from its reconciles. Each blocks on runs-service.

// What to do with a cached action: take the entry's outputs, run it, or wait for the holder of its reservation.
struct CacheDecision {
  enum class Kind { kHit, kRun, kWait };
  Kind kind = Kind::kRun;
  std::string output_uri;                   // kHit: the entry's outputs
  CacheStatus status = CacheStatus::kMiss;  // kRun: kMiss, or kLookupFailure when the cache could not be asked
  bool holds_reservation = false;           // kRun: serialize, and the reservation is now `key`'s
  std::string holder;                       // kWait: who holds the reservation
};
// Looks the entry up (not with overwrite), then with serialize asks for the reservation as CacheOwnerId(key).
CacheDecision DecideCache(CacheClient& client, const CacheIdentity& id, const ActionKey& key,
                          std::chrono::milliseconds heartbeat);
// Extends `key`'s reservation (logs when that failed or another holds it now).
void ExtendCacheReservation(CacheClient& client, const CacheIdentity& id, const ActionKey& key,
                            std::chrono::milliseconds heartbeat);

// How recording a successful attempt's outputs went: the status its SUCCEEDED carries, and what to add to its
// cluster event.
struct CacheRecordOutcome {
  CacheStatus status = CacheStatus::kPopulated;
  std::string event;  // starts with "; "
};
// Copies the attempt's outputs (at `output_uri`) into <data_root>/.cache and records the copy (Put), then
// releases the reservation when `holds_reservation`. `running` is the status the attempt ran with (kMiss or
// kLookupFailure), kept when an identical action recorded first. Repeatable: recording the same attempt again
// (a retried status write) finds its own entry and reports kPopulated again.
CacheRecordOutcome RecordCachedOutputs(CacheClient& client, const std::string& data_root, const CacheIdentity& id,
                                       const ActionKey& key, int attempt, const std::string& output_uri,
                                       CacheStatus running, bool holds_reservation);

// Cluster events, the same in both runtimes.
std::string CacheHitEvent(const CacheIdentity& id);
std::string CacheWaitEvent(const CacheIdentity& id, const std::string& holder);

}  // namespace flyte::executor
