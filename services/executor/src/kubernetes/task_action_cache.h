#pragma once
// The task output cache on the Kubernetes runtime: the local runtime's steps (service/task_cache.h: DecideCache,
// ExtendCacheReservation, RecordCachedOutputs, against the one CacheClient port to runs-service), taken from the
// controller's reconciles instead of a thread of their own. Everything a restarted executor or a new leader needs
// is in the TaskAction status, so nothing here is more than a timer:
//
//   status.cacheStatus       Miss | LookupFailure once decided to run (a Pod follows), Hit, Populated, PutFailure;
//                            absent before the lookup. Every transition reported carries it.
//   status.outputsUri        Hit: the cache entry's outputs (no Pod was made); reported as the action's outputs.
//   status.cacheReservation  Held: this action computes the entry (serialize); extended every heartbeat while its
//                            Pod runs, released when it ends. Waiting: another action holds it; looked up again
//                            with backoff until the entry appears or the reservation is free or expired.
//
// The cache applies only when task Pods write to the shared data volume (kubernetes.dataVolumeClaim) and this
// executor mounts it at its data root (the Helm chart does): the cache copies outputs.pb (and the files it names)
// from there. Otherwise a cached task runs every time and reports CACHE_SKIPPED.
//
// Thread-safe. Calls block on runs-service and the data volume (the controller's workers call them).
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "clients/cache_client.h"
#include "kubernetes/task_action_view.h"
#include "runtime/cache_identity.h"

namespace flyte::executor::k8s {

inline constexpr char kCacheHeld[] = "Held";
inline constexpr char kCacheWaiting[] = "Waiting";

struct TaskActionCacheOptions {
  std::string data_root;          // where this executor mounts the data volume
  bool pods_share_data = false;   // task Pods mount the data volume (a claim is configured)
  std::string default_org;
  std::chrono::milliseconds heartbeat{5000};  // serialize: reservation extension period (expiry: 3x this)
  std::chrono::milliseconds wait_poll{1000};  // serialize: a waiter's first look again; doubles up to 8x
};

class TaskActionCache {
 public:
  // `client` may be null (no cache) and must outlive this.
  TaskActionCache(CacheClient* client, TaskActionCacheOptions options);

  // Why the cache does not apply on this executor; "" when it does.
  std::string DisabledReason() const;
  // The entry the TaskAction reads and writes, and the action (its reservation owner); nullopt when its task is
  // not cached or the cache does not apply.
  struct Cached {
    CacheIdentity id;
    ActionKey key;
  };
  std::optional<Cached> Identity(const TaskActionView& ta) const;

  // Before the first attempt's Pod. `next` is the status to write (unchanged: create the Pod now).
  struct Decision {
    TaskActionStatus next;
    bool write = false;                                  // write `next`
    bool run = false;                                    // then create the first Pod
    std::optional<std::chrono::milliseconds> look_again;  // waiting: reconcile again after this
  };
  Decision BeforeFirstPod(const TaskActionView& ta, const Cached& c, TimePoint now);
  // While the Pod of a reservation holder runs: extends the reservation when due; when to come back.
  std::chrono::milliseconds KeepReservation(const TaskActionView& ta, const Cached& c);
  // A successful attempt (outputs at `output_uri`): records them, sets st's cacheStatus and drops the
  // reservation; what to add to the cluster event.
  std::string Record(const TaskActionView& ta, const Cached& c, const std::string& output_uri,
                     TaskActionStatus& st);
  // The action ends otherwise: gives a held reservation back and clears it from `st`.
  void Release(const TaskActionView& ta, const Cached& c, TaskActionStatus& st);

 private:
  void Drop(const std::string& uid);

  CacheClient* const client_;
  const TaskActionCacheOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> extended_;  // by uid: last heartbeat
  std::unordered_map<std::string, int> waits_;                                       // by uid: looks while waiting
};

}  // namespace flyte::executor::k8s
