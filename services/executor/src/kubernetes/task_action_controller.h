#pragma once
// The executor on Kubernetes (executor.runtime: kubernetes): a controller that reconciles TaskAction resources
// into Pods, one Pod per attempt, and reports every transition to runs-service through the same StateReporter
// the local runtime uses, so runs, watches and the SDK see the same thing in both modes.
//
//   list+watch TaskActions ─┐                      ┌─ create Pod <run>-<action>-<attempt> (409 = adopt)
//   list+watch our Pods ────┼─> keys ─> WorkQueue ─┼─ write TaskAction status (phase, attempt, history, error)
//   resync, leadership ─────┘   (one worker per    ├─ report transitions (in order, retried) ─> runs-service
//                                key at a time)     └─ delete Pods (abort, timeout), remove the finalizer
//
// Level-triggered: a reconcile reads the TaskAction and its Pod from the watched caches and moves one step; it
// never depends on having seen an event, so a restarted executor (kill -9 included) rebuilds everything from the
// objects. Every status write carries the resourceVersion it read (409: re-read, reconcile again); Pod names are
// deterministic, so a repeated create is adopted, never duplicated. Transitions are reported after the status
// that records them is written; what this process has not reported yet (e.g. after a restart) is reported again
// (runs-service treats a repeated phase as a no-op). The executor's finalizer is removed only once the terminal
// report was recorded, so a deleted (aborted) TaskAction always gets its ABORTED recorded.
//
// Several replicas: one leads (coordination.k8s.io Lease); the others keep their caches warm and take over when
// the lease lapses. Thread-safe; Start once, Shutdown (also the destructor) stops everything.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "clients/secret_client.h"
#include "clients/state_reporter.h"
#include "flyte/common/clock.h"
#include "flyte/kube/client.h"
#include "flyte/kube/leader_election.h"
#include "flyte/kube/list_watcher.h"
#include "flyte/kube/work_queue.h"
#include "kubernetes/pod_builder.h"
#include "kubernetes/task_action_cache.h"
#include "kubernetes/task_action_view.h"
#include "runtime/attempt_layout.h"

namespace flyte::metrics {
class Registry;
}

namespace flyte::executor::k8s {

struct ControllerOptions {
  std::string ns;
  PodSettings pod;                                      // how Pods are built (ns, data root, env, ...)
  int workers = 8;
  std::chrono::milliseconds image_pull_grace{120000};
  std::chrono::milliseconds resync{300000};
  std::chrono::milliseconds retention{3600000};         // finished root TaskActions deleted after this; 0 = keep
  bool leader_election = true;
  kube::LeaderElectionConfig lease;                     // ns, name, identity, durations
  std::chrono::milliseconds cache_heartbeat{5000};      // serialized cached tasks (kubernetes/task_action_cache.h)
  std::chrono::milliseconds cache_wait_poll{1000};
  SecretClient* secrets = nullptr;                      // resolves tasks' declared secrets; null: none can be
};

class TaskActionController {
 public:
  // All references must outlive the controller. `cache` (runs-service's task output cache) and `metrics` may be
  // null.
  TaskActionController(kube::Client& client, StateReporter& reporter, CacheClient* cache, ControllerOptions options,
                       metrics::Registry* metrics, common::Clock& clock = common::Clock::System());
  ~TaskActionController();
  TaskActionController(const TaskActionController&) = delete;
  TaskActionController& operator=(const TaskActionController&) = delete;

  // Checks the Pod settings with the API server (a dry-run create of a sample Pod: kInvalidArgument with the
  // server's message, which names the bad field), then starts the watches, leader election and the workers.
  absl::Status Start();
  // Stops workers, watches and the elector (releasing a held lease). Idempotent.
  void Shutdown();

  bool synced() const;     // both caches filled: ready to act
  bool is_leader() const;
  size_t cached_task_actions() const;
  size_t cached_pods() const;

 private:
  struct Metrics;
  struct Sent {  // the latest transition handed to the reporter, per TaskAction uid
    int attempt = 0;
    int rank = -1;
  };

  // Caches (watch handlers).
  void OnTaskActions(std::vector<kube::Json> items);
  void OnTaskAction(kube::WatchEventType type, kube::Json object);
  void OnPods(std::vector<kube::Json> items);
  void OnPod(kube::WatchEventType type, kube::Json object);
  void EnqueueAll();
  void CountTransition(Phase phase);
  void ObservePodCreated(const TaskActionView& ta);
  bool NotNeededLocked(const PodView& pod) const;
  void Enqueue(const std::string& name);
  void Worker();
  void ResyncLoop();

  // One reconcile of TaskAction `name` (task_action_reconcile.cc). An error requeues it with backoff.
  absl::Status Reconcile(const std::string& name);
  absl::Status ReconcileDeleted(const TaskActionView& ta);
  absl::Status FinishEnded(const TaskActionView& ta);
  absl::Status Advance(const TaskActionView& ta);
  // Follows the Pod of the current attempt: running, ended, timed out, gone.
  absl::Status Observe(const TaskActionView& ta, const ActionToRun& action, const TaskToRun& task);
  // A TaskAction whose status was never written but whose first Pod exists, as if that had been written.
  std::optional<TaskActionView> FirstAttemptView(const TaskActionView& ta);
  absl::Status StartAttempt(const TaskActionView& ta, TaskActionStatus status, const ActionToRun& action,
                            const TaskToRun& task, int attempt);
  absl::Status AttemptEnded(const TaskActionView& ta, const ActionToRun& action, const TaskToRun& task,
                            const std::string& phase, ActionError error, std::string event);
  absl::Status FailWithoutAttempt(const TaskActionView& ta, ActionError error);
  // The task output cache's steps (task_action_cache.cc): before the first Pod (a hit ends the action without
  // one), while a reservation holder's Pod runs, on success, and on any other end.
  absl::Status StartFirstAttempt(const TaskActionView& ta, const ActionToRun& action, const TaskToRun& task);
  void KeepCacheReservation(const TaskActionView& ta);
  std::string RecordInCache(const TaskActionView& ta, const std::string& output_uri, TaskActionStatus& st);
  void ReleaseCacheOnEnd(const TaskActionView& ta, TaskActionStatus& st);
  CacheStatus ReportedCacheStatus(const TaskActionView& ta) const;
  // The attempt's Secret (kubernetes/pod_secrets.cc): created before its Pod, deleted when the attempt ends.
  absl::StatusOr<std::vector<TaskSecret>> ResolveSecrets(const ActionToRun& action);
  // A ResolveSecrets error: kUnavailable returned (reconcile again), else the action failed with no Pod.
  absl::Status SecretsUnresolved(const TaskActionView& ta, const TaskActionStatus& st, const absl::Status& why);
  absl::Status EndAttemptSecrets(const std::string& pod_name, const TaskToRun& task);
  // Writes `status` (merge patch on /status with the resourceVersion read), updates the cache, then reports the
  // transitions it added.
  absl::Status WriteStatusAndReport(const TaskActionView& ta, const TaskActionStatus& status);
  // Reports the latest transitions of `ta` this process has not handed to the reporter yet.
  void ReportPending(const TaskActionView& ta);
  absl::Status RemoveFinalizer(const TaskActionView& ta);
  absl::Status DeletePod(const PodView& pod, std::chrono::milliseconds grace);
  absl::StatusOr<PodView> FindPod(const std::string& name);
  absl::StatusOr<AttemptPaths> Paths(const TaskActionView& ta, int attempt) const;
  ActionTransition Transition(const TaskActionView& ta, const HistoryEntry& entry, bool final) const;

  kube::Client& client_;
  StateReporter& reporter_;
  const ControllerOptions options_;
  common::Clock& clock_;
  std::unique_ptr<Metrics> metrics_;
  AttemptLayout layout_;
  TaskActionCache cache_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, TaskActionView> actions_;  // by name
  std::unordered_map<std::string, PodView> pods_;            // by name
  std::unordered_map<std::string, Sent> sent_;               // by TaskAction uid
  std::unordered_set<std::string> final_recorded_;           // uids whose terminal report runs-service recorded
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> created_pods_;  // not yet seen by the watch

  kube::WorkQueue queue_;
  std::unique_ptr<kube::ListWatcher> action_watch_;
  std::unique_ptr<kube::ListWatcher> pod_watch_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
  std::thread resync_;
  std::condition_variable stop_cv_;
  bool started_ = false;
};

}  // namespace flyte::executor::k8s
