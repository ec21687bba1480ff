#pragma once
// ActionQueue on Kubernetes: every enqueued action becomes a TaskAction custom resource (flyte.org/v1) in one
// namespace, which the executor (executor.runtime: kubernetes) reconciles into Pods.
//  * Enqueue creates the TaskAction (labels, the executor's finalizer, the request verbatim in
//    spec.enqueueRequest) with an ownerReference to its parent's TaskAction, so deleting a parent deletes its
//    descendants. 409 AlreadyExists for the same action means "already queued" (idempotent); for another action
//    with the same run and action names (another project or domain in the namespace) the fallback name is used.
//  * AbortRun deletes the run's root TaskAction (foreground: the garbage collector deletes the descendants first)
//    and then whatever of the run is left (deletecollection on the run's labels). AbortAction deletes that
//    action's TaskAction the same way. The executor's finalizer keeps each one until its Pod is gone and ABORTED is
//    recorded.
//  * Depth counts TaskActions by status phase (read from the API server's cache).
// Thread-safe; every call is one or a few API requests (see docs/kubernetes.md for the counts).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "flyte/kube/client.h"
#include "flyte/kube/task_action.h"
#include "repository/queue_backend.h"

namespace flyte::queue {

class KubernetesActionQueue final : public ActionQueue {
 public:
  // `client` must outlive this object.
  KubernetesActionQueue(kube::Client& client, std::string ns);

  absl::StatusOr<bool> Enqueue(const NewEntry& entry, TimePoint now) override;
  absl::StatusOr<std::vector<bool>> EnqueueMany(const std::vector<NewEntry>& entries, TimePoint now) override;
  absl::StatusOr<int64_t> AbortRun(const RunKey& run, const std::string& reason, TimePoint now) override;
  absl::StatusOr<int64_t> AbortAction(const ActionKey& action, const std::string& reason, TimePoint now) override;
  absl::StatusOr<QueueEntry> Get(const ActionKey& key) override;
  absl::StatusOr<QueueDepth> Depth() override;
  absl::Status Ping() override;

  const std::string& ns() const { return ns_; }

 private:
  // The TaskAction object of `key` (primary name, then the fallback name); kNotFound if neither is this action's.
  absl::StatusOr<kube::Json> Find(const kube::ActionRef& ref);
  // The parent's {name, uid}, cached for a few minutes (children of one parent are enqueued together).
  std::optional<kube::OwnerRef> ParentOwner(const kube::ActionRef& parent);

  kube::Client& client_;
  const std::string ns_;
  std::mutex mu_;
  struct CachedOwner {
    kube::OwnerRef owner;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, CachedOwner> owners_;  // by parent ActionRef::ToString()
};

}  // namespace flyte::queue
