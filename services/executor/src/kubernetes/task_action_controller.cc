#include "kubernetes/task_action_controller.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "flyte/kube/task_action.h"
#include "flyte/metrics/registry.h"
#include "runtime/task_launch.h"

namespace flyte::executor::k8s {

struct TaskActionController::Metrics {
  explicit Metrics(metrics::Registry& r)
      : transitions(prometheus::BuildCounter()
                        .Name("flyte_executor_actions_total")
                        .Help("Transitions reported to runs-service, by phase")
                        .Register(r.prometheus())),
        leader(prometheus::BuildGauge()
                   .Name("flyte_executor_leader")
                   .Help("1 while this executor leads (reconciles TaskActions), 0 while it stands by")
                   .Register(r.prometheus())
                   .Add({})),
        reconcile_errors(prometheus::BuildCounter()
                             .Name("flyte_executor_reconcile_errors_total")
                             .Help("Reconciles that failed and were retried with backoff")
                             .Register(r.prometheus())
                             .Add({})),
        cached(prometheus::BuildGauge()
                   .Name("flyte_executor_cached_objects")
                   .Help("TaskActions and Pods held in the executor's watch caches")
                   .Register(r.prometheus())),
        cached_actions(cached.Add({{"kind", "taskaction"}})),
        cached_pods(cached.Add({{"kind", "pod"}})),
        enqueue_to_pod(prometheus::BuildHistogram()
                           .Name("flyte_executor_enqueue_to_pod_seconds")
                           .Help("From queue-service creating a TaskAction to the executor creating its first Pod")
                           .Register(r.prometheus())
                           .Add({}, metrics::Registry::LatencyBuckets())) {}
  prometheus::Family<prometheus::Counter>& transitions;
  prometheus::Gauge& leader;
  prometheus::Counter& reconcile_errors;
  prometheus::Family<prometheus::Gauge>& cached;
  prometheus::Gauge& cached_actions;
  prometheus::Gauge& cached_pods;
  prometheus::Histogram& enqueue_to_pod;
};

TaskActionController::TaskActionController(kube::Client& client, StateReporter& reporter, CacheClient* cache,
                                           ControllerOptions options, metrics::Registry* metrics,
                                           common::Clock& clock)
    : client_(client),
      reporter_(reporter),
      options_(std::move(options)),
      clock_(clock),
      layout_(options_.pod.data_root),
      cache_(cache, TaskActionCacheOptions{options_.pod.data_root, !options_.pod.data_volume_claim.empty(),
                                           options_.pod.env.default_org, options_.cache_heartbeat,
                                           options_.cache_wait_poll}),
      queue_(std::chrono::milliseconds(100), std::chrono::seconds(60)) {
  if (metrics != nullptr) metrics_ = std::make_unique<Metrics>(*metrics);
}

TaskActionController::~TaskActionController() { Shutdown(); }

absl::Status TaskActionController::Start() {
  // A Pod built from this configuration must pass the API server's validation and admission (bad tolerations,
  // resources, a missing service account...): find out now, not at the first task.
  ActionToRun sample;
  sample.key = ActionKey{"local", "validate", "validate", "config-check", "a0"};
  TaskToRun task;
  task.tmpl.mutable_container()->set_image("busybox");
  task.args = {"true"};
  task.tmpl.mutable_container()->add_args("true");
  absl::StatusOr<AttemptPaths> paths = layout_.Plan(sample.key, "", 1);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<BuiltPod> pod =
      BuildPod(options_.pod, PodRequest{&sample, &task, &*paths, 1, "config-check", "00000000-0000-0000-0000-000000000000"});
  if (!pod.ok()) return pod.status();
  absl::StatusOr<kube::Json> dry = client_.Create(kube::kPods, options_.ns, pod->pod, /*dry_run=*/true);
  if (!dry.ok()) {
    if (dry.status().code() == absl::StatusCode::kInvalidArgument ||
        dry.status().code() == absl::StatusCode::kPermissionDenied) {
      return absl::InvalidArgumentError(absl::StrCat(
          "executor.kubernetes: namespace ", options_.ns, " refuses a task Pod built from this configuration: ",
          dry.status().message()));
    }
    return absl::Status(dry.status().code(), absl::StrCat("executor.kubernetes: cannot reach the cluster (",
                                                          client_.config().source, "): ", dry.status().message()));
  }

  action_watch_ = std::make_unique<kube::ListWatcher>(
      client_, kube::kTaskActions, options_.ns,
      kube::ListWatchHandlers{[this](std::vector<kube::Json> items) { OnTaskActions(std::move(items)); },
                              [this](kube::WatchEventType t, kube::Json o) { OnTaskAction(t, std::move(o)); }});
  kube::ListWatchOptions pod_options;
  pod_options.label_selector = std::string(kube::kLabelManagedBy) + "=" + kube::kManagedByExecutor;
  pod_watch_ = std::make_unique<kube::ListWatcher>(
      client_, kube::kPods, options_.ns,
      kube::ListWatchHandlers{[this](std::vector<kube::Json> items) { OnPods(std::move(items)); },
                              [this](kube::WatchEventType t, kube::Json o) { OnPod(t, std::move(o)); }},
      pod_options);
  action_watch_->Start();
  pod_watch_->Start();
  auto become_leader = [this] {
    leader_ = true;
    if (metrics_) metrics_->leader.Set(1);
    EnqueueAll();
  };
  if (options_.leader_election) {
    elector_ = std::make_unique<kube::LeaderElector>(
        client_, options_.lease,
        kube::LeaderCallbacks{become_leader, [this] {
                                leader_ = false;
                                if (metrics_) metrics_->leader.Set(0);
                                FLYTE_LOG(kWarn, "executor: no longer the leader; standing by");
                              }});
    elector_->Start();
  } else {
    become_leader();
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Worker(); });
  resync_ = std::thread([this] { ResyncLoop(); });
  started_ = true;
  if (std::string why = cache_.DisabledReason(); !why.empty()) {
    FLYTE_LOG(kWarn, "executor: the task output cache does not apply here ({}): cached tasks run every time and "
              "report CACHE_SKIPPED", why);
  }
  FLYTE_LOG(kInfo, "executor: reconciling TaskActions in namespace {} of {} ({}); {} workers, leader election {}",
            options_.ns, client_.config().server, client_.config().source, options_.workers,
            options_.leader_election ? "on (lease " + options_.lease.name + ")" : std::string("off"));
  return absl::OkStatus();
}

void TaskActionController::Shutdown() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
  }
  stop_cv_.notify_all();
  queue_.ShutDown();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (resync_.joinable()) resync_.join();
  if (elector_) elector_->Stop();
  if (action_watch_) action_watch_->Stop();
  if (pod_watch_) pod_watch_->Stop();
  leader_ = false;
}

bool TaskActionController::synced() const {
  return action_watch_ && pod_watch_ && action_watch_->synced() && pod_watch_->synced();
}
bool TaskActionController::is_leader() const { return leader_.load(); }
size_t TaskActionController::cached_task_actions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return actions_.size();
}
size_t TaskActionController::cached_pods() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pods_.size();
}

void TaskActionController::ObservePodCreated(const TaskActionView& ta) {
  if (!metrics_ || !ta.enqueued_at) return;
  metrics_->enqueue_to_pod.Observe(std::chrono::duration<double>(clock_.Now() - *ta.enqueued_at).count());
}

void TaskActionController::CountTransition(Phase phase) {
  if (metrics_) metrics_->transitions.Add({{"phase", PhaseName(phase)}}).Increment();
}

void TaskActionController::Enqueue(const std::string& name) {
  if (leader_.load() && !name.empty()) queue_.Add(name);
}

void TaskActionController::EnqueueAll() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    names.reserve(actions_.size());
    for (const auto& [name, view] : actions_) names.push_back(name);
    if (metrics_) {
      metrics_->cached_actions.Set(static_cast<double>(actions_.size()));
      metrics_->cached_pods.Set(static_cast<double>(pods_.size()));
    }
  }
  for (const std::string& n : names) Enqueue(n);
}

void TaskActionController::OnTaskActions(std::vector<kube::Json> items) {
  std::unordered_map<std::string, TaskActionView> fresh;
  for (const kube::Json& item : items) {
    absl::StatusOr<TaskActionView> v = TaskActionView::FromJson(item);
    if (!v.ok()) {
      FLYTE_LOG(kWarn, "executor: ignoring a malformed TaskAction: {}", std::string(v.status().message()));
      continue;
    }
    std::string name = v->name;
    fresh.emplace(std::move(name), std::move(*v));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    actions_ = std::move(fresh);
  }
  EnqueueAll();
}

void TaskActionController::OnTaskAction(kube::WatchEventType type, kube::Json object) {
  std::string name = object["metadata"].value("name", "");
  if (type == kube::WatchEventType::kDeleted) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actions_.find(name);
    if (it != actions_.end()) {
      sent_.erase(it->second.uid);
      final_recorded_.erase(it->second.uid);
      actions_.erase(it);
    }
    return;
  }
  absl::StatusOr<TaskActionView> v = TaskActionView::FromJson(object);
  if (!v.ok()) {
    FLYTE_LOG(kWarn, "executor: ignoring a malformed TaskAction: {}", std::string(v.status().message()));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    actions_[name] = std::move(*v);
  }
  Enqueue(name);
}

bool TaskActionController::NotNeededLocked(const PodView& p) const {
  // A finished Pod of an action whose end is recorded is never looked at again.
  if (p.phase != "Succeeded" && p.phase != "Failed") return false;
  auto it = actions_.find(p.task_action);
  return it != actions_.end() && it->second.ended() && !it->second.has_finalizer;
}

void TaskActionController::OnPods(std::vector<kube::Json> items) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pods_.clear();
    for (const kube::Json& item : items) {
      PodView p = PodView::FromJson(item);
      if (NotNeededLocked(p)) continue;
      std::string name = p.name;
      pods_.emplace(std::move(name), std::move(p));
    }
  }
  EnqueueAll();
}

void TaskActionController::OnPod(kube::WatchEventType type, kube::Json object) {
  PodView p = PodView::FromJson(object);
  std::string owner = p.task_action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    created_pods_.erase(p.name);
    if (type == kube::WatchEventType::kDeleted || NotNeededLocked(p)) {
      pods_.erase(p.name);
    } else {
      pods_[p.name] = std::move(p);
    }
  }
  Enqueue(owner);
}

void TaskActionController::Worker() {
  std::string name;
  while (queue_.Get(&name)) {
    if (!leader_.load() || stopping_.load()) {
      queue_.Done(name);
      continue;
    }
    absl::Status s = Reconcile(name);
    if (s.ok()) {
      queue_.Forget(name);
    } else {
      if (metrics_) metrics_->reconcile_errors.Increment();
      int failures = queue_.Failures(name);
      if (failures % 10 == 0) {
        FLYTE_LOG(kWarn, "executor: reconciling TaskAction {} failed ({} times): {}", name, failures + 1, s.ToString());
      }
      queue_.AddRateLimited(name);
    }
    queue_.Done(name);
  }
}

void TaskActionController::ResyncLoop() {
  std::mutex m;
  std::unique_lock<std::mutex> lock(m);
  while (!stopping_.load()) {
    stop_cv_.wait_for(lock, options_.resync, [this] { return stopping_.load(); });
    if (stopping_.load()) break;
    {
      // Expectations older than a minute are dropped: a create the watch never showed is looked up again.
      std::lock_guard<std::mutex> guard(mu_);
      auto cutoff = std::chrono::steady_clock::now() - std::chrono::minutes(1);
      for (auto it = created_pods_.begin(); it != created_pods_.end();) {
        it = it->second < cutoff ? created_pods_.erase(it) : std::next(it);
      }
    }
    EnqueueAll();
  }
}

}  // namespace flyte::executor::k8s
