// TaskActionController::Reconcile and the steps it takes; the controller's plumbing (caches, watches, leader
// election, workers) is in task_action_controller.cc.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/action_decoding.h"
#include "flyte/app/log.h"
#include "flyte/kube/task_action.h"
#include "flyteidl2/workflow/queue_service.pb.h"
#include "kubernetes/pod_outcome.h"
#include "kubernetes/pod_secrets.h"
#include "kubernetes/task_action_controller.h"
#include "runtime/output_localizer.h"
#include "runtime/task_launch.h"

namespace flyte::executor::k8s {
namespace {

using std::chrono::milliseconds;

// Order of a transition within an action: later attempts after earlier ones, and within an attempt
// INITIALIZING < RUNNING < its end.
int Rank(const std::string& phase) {
  if (phase == kube::kPhaseQueued) return 0;
  if (phase == kube::kPhaseInitializing) return 1;
  if (phase == kube::kPhaseRunning) return 2;
  return 3;
}

bool After(int attempt, int rank, int other_attempt, int other_rank) {
  return attempt > other_attempt || (attempt == other_attempt && rank > other_rank);
}

constexpr auto kPodCreateExpectation = std::chrono::seconds(30);

// The task's /tmp on the data volume, made world-writable (sticky, as /tmp is) before the Pod exists, so a task
// running as any user can write there. Only when the volume is mounted here too (the data root is a directory);
// otherwise the kubelet creates the subPath directory, with the mode of the volume's root.
void PrepareTaskTmp(const std::string& data_root, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_root, ec)) return;
  std::filesystem::create_directories(dir, ec);
  if (!ec) std::filesystem::permissions(dir, std::filesystem::perms::all | std::filesystem::perms::sticky_bit, ec);
  if (ec) FLYTE_LOG(kWarn, "executor: cannot prepare {} for a task's /tmp: {}", dir, ec.message());
}

// What the cluster event says about the outputs the task named by paths in its Pod.
void DescribeOutputChanges(const OutputBlobChanges& c, std::string* event) {
  // A reconcile repeated after a failed status write finds the outputs already rewritten: same event.
  if (int renamed = c.renamed + c.renamed_before; renamed > 0) {
    absl::StrAppend(event, "; ", renamed, " output file(s) in the Pod's /tmp named by their path on the data volume");
  }
  if (c.left > 0) {
    absl::StrAppend(event, "; ", c.left, " output file(s) left as written: they name paths in the Pod outside /tmp ",
                    "and the data root (or missing there), which later tasks cannot read; write outputs under /tmp ",
                    "or the raw-data directory");
  }
}

}  // namespace

absl::Status TaskActionController::Reconcile(const std::string& name) {
  TaskActionView ta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actions_.find(name);
    if (it == actions_.end()) return absl::OkStatus();  // gone; its Pods go with it (ownerReferences)
    ta = it->second;
  }
  if (ta.deletion) return ta.has_finalizer ? ReconcileDeleted(ta) : absl::OkStatus();
  if (ta.ended()) return FinishEnded(ta);
  return Advance(ta);
}

absl::StatusOr<AttemptPaths> TaskActionController::Paths(const TaskActionView& ta, int attempt) const {
  ActionKey key{ta.ref.org.empty() ? options_.pod.env.default_org : ta.ref.org, ta.ref.project, ta.ref.domain,
                ta.ref.run, ta.ref.action};
  return layout_.Plan(key, ta.run_output_base, attempt);
}

ActionTransition TaskActionController::Transition(const TaskActionView& ta, const HistoryEntry& e, bool final) const {
  ActionTransition t;
  t.key = ActionKey{ta.ref.org, ta.ref.project, ta.ref.domain, ta.ref.run, ta.ref.action};
  t.attempt = e.attempt;
  t.phase = PhaseFromName(e.phase);
  t.time = e.time;
  t.cluster_event = e.message;
  t.final = final;
  t.cache_status = ReportedCacheStatus(ta);
  if (t.phase == Phase::kFailed || t.phase == Phase::kTimedOut || t.phase == Phase::kAborted) {
    t.error = ActionError{e.error_code.empty() ? std::string(e.phase) : e.error_code, e.message, e.error_kind,
                          false};
  }
  if (t.phase == Phase::kSucceeded && !ta.status.outputs_uri.empty()) {
    t.output_uri = ta.status.outputs_uri;  // a cache hit: the entry's outputs
  } else if (t.phase == Phase::kSucceeded) {
    if (absl::StatusOr<AttemptPaths> p = Paths(ta, e.attempt); p.ok()) t.output_uri = ToFileUri(p->output_dir);
  }
  if (t.phase >= Phase::kInitializing) {
    t.pod_log_uri = absl::StrCat("k8s://", options_.ns, "/pods/", kube::PodName(ta.ref, e.attempt), "/log");
  }
  return t;
}

void TaskActionController::ReportPending(const TaskActionView& ta) {
  // The transitions runs-service must know: the previous attempt's end (so the next attempt is a legal retry)
  // and the current attempt's latest phase. Skip what this process already handed to the reporter.
  std::vector<const HistoryEntry*> due;
  if (ta.status.attempt > 1) {
    if (const HistoryEntry* prev = ta.status.LastOf(ta.status.attempt - 1); prev && Rank(prev->phase) == 3) {
      due.push_back(prev);
    }
  }
  if (const HistoryEntry* cur = ta.status.LastOf(std::max(1, ta.status.attempt))) due.push_back(cur);
  std::vector<StateReport> reports;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Sent& sent = sent_[ta.uid];
    for (const HistoryEntry* e : due) {
      int rank = Rank(e->phase);
      if (!After(e->attempt, rank, sent.attempt, sent.rank)) continue;
      bool final = ta.ended() && e == due.back();
      StateReport report{Transition(ta, *e, final), ta.parent};
      // The end of an earlier attempt: the current one is its retry, so the action stays live in runs-service.
      report.transition.retry_follows = rank == 3 && e->attempt < ta.status.attempt;
      reports.push_back(std::move(report));
      sent = Sent{e->attempt, rank};
    }
  }
  for (StateReport& r : reports) {
    CountTransition(r.transition.phase);
    StateReporter::Done done = nullptr;
    if (r.transition.final) {
      std::string uid = ta.uid, name = ta.name;
      done = [this, uid, name](const absl::Status& s) {
        if (s.code() == absl::StatusCode::kCancelled) return;  // shutting down: the next leader reports it
        {
          std::lock_guard<std::mutex> lock(mu_);
          final_recorded_.insert(uid);
        }
        Enqueue(name);  // now the finalizer may go
      };
    }
    reporter_.Report(std::move(r), std::move(done));
  }
}

absl::Status TaskActionController::WriteStatusAndReport(const TaskActionView& ta, const TaskActionStatus& next) {
  TaskActionStatus status = next;
  ReleaseCacheOnEnd(ta, status);
  kube::Json patch = {{"metadata", {{"resourceVersion", ta.resource_version}}},
                      {"status", status.ToJson(/*for_merge_patch=*/true)}};
  absl::StatusOr<kube::Json> written =
      client_.Patch(kube::kTaskActions, options_.ns, ta.name, patch, kube::PatchType::kMerge, "status");
  if (absl::IsNotFound(written.status())) return absl::OkStatus();
  if (!written.ok()) return written.status();  // kAborted (stale resourceVersion): reconcile again from the cache
  absl::StatusOr<TaskActionView> updated = TaskActionView::FromJson(*written);
  if (!updated.ok()) return updated.status();
  {
    // The watch brings the same object shortly; acting on it now spares a reconcile on stale data.
    std::lock_guard<std::mutex> lock(mu_);
    actions_[ta.name] = *updated;
  }
  ReportPending(*updated);
  return absl::OkStatus();
}

absl::Status TaskActionController::RemoveFinalizer(const TaskActionView& ta) {
  kube::Json remaining = kube::Json::array();
  for (const std::string& f : ta.finalizers) {
    if (f != kube::kExecutorFinalizer) remaining.push_back(f);
  }
  kube::Json patch = kube::Json::array(
      {kube::Json{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", ta.finalizers}},
       kube::Json{{"op", "replace"}, {"path", "/metadata/finalizers"}, {"value", remaining}}});
  absl::StatusOr<kube::Json> done = client_.Patch(kube::kTaskActions, options_.ns, ta.name, patch, kube::PatchType::kJson);
  if (absl::IsNotFound(done.status())) return absl::OkStatus();
  if (!done.ok()) return done.status();  // the list changed under us (422 on the test): reconcile again
  std::lock_guard<std::mutex> lock(mu_);
  final_recorded_.erase(ta.uid);
  sent_.erase(ta.uid);
  if (absl::StatusOr<TaskActionView> v = TaskActionView::FromJson(*done); v.ok()) actions_[ta.name] = std::move(*v);
  for (auto it = pods_.begin(); it != pods_.end();) {
    it = it->second.task_action == ta.name && NotNeededLocked(it->second) ? pods_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

absl::Status TaskActionController::DeletePod(const PodView& pod, milliseconds grace) {
  kube::DeleteOptions o;
  o.precondition_uid = pod.uid;
  o.grace_period_seconds = grace.count() / 1000;
  absl::Status s = client_.Delete(kube::kPods, options_.ns, pod.name, o);
  if (absl::IsNotFound(s) || s.code() == absl::StatusCode::kAborted) return absl::OkStatus();  // gone / replaced
  return s;
}

absl::StatusOr<PodView> TaskActionController::FindPod(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(name);
    if (it != pods_.end()) return it->second;
  }
  absl::StatusOr<kube::Json> got = client_.Get(kube::kPods, options_.ns, name);
  if (!got.ok()) return got.status();
  PodView p = PodView::FromJson(*got);
  std::lock_guard<std::mutex> lock(mu_);
  pods_[name] = p;
  return p;
}

absl::Status TaskActionController::FinishEnded(const TaskActionView& ta) {
  if (ta.has_finalizer) {
    bool recorded;
    {
      std::lock_guard<std::mutex> lock(mu_);
      recorded = final_recorded_.count(ta.uid) > 0;
    }
    if (recorded) return RemoveFinalizer(ta);
    ReportPending(ta);  // no-op while the terminal report is on its way
    return absl::OkStatus();
  }
  // A finished run's TaskActions (and their Pods) are deleted `retention` after the run ended.
  if (ta.is_root() && options_.retention.count() > 0 && ta.status.completed_at) {
    auto due = *ta.status.completed_at + options_.retention;
    auto now = clock_.Now();
    if (now >= due) {
      kube::DeleteOptions o;
      o.propagation_policy = "Background";
      o.precondition_uid = ta.uid;
      absl::Status s = client_.Delete(kube::kTaskActions, options_.ns, ta.name, o);
      if (!s.ok() && !absl::IsNotFound(s) && s.code() != absl::StatusCode::kAborted) return s;
    } else {
      queue_.AddAfter(ta.name, std::chrono::duration_cast<milliseconds>(due - now) + milliseconds(500));
    }
  }
  return absl::OkStatus();
}

absl::Status TaskActionController::ReconcileDeleted(const TaskActionView& ta) {
  if (!ta.status.pod_name.empty()) {
    absl::StatusOr<PodView> pod = FindPod(ta.status.pod_name);
    if (pod.ok() && !pod->deleting && pod->phase != "Succeeded" && pod->phase != "Failed") {
      if (absl::Status s = DeletePod(*pod, options_.pod.kill_grace); !s.ok()) return s;
    } else if (!pod.ok() && !absl::IsNotFound(pod.status())) {
      return pod.status();
    }
  }
  if (ta.ended()) return FinishEnded(ta);
  TaskActionStatus st = ta.status;
  std::string reason = ta.abort_reason.empty()
                           ? "its TaskAction was deleted (the run or a parent action was aborted)"
                           : ta.abort_reason;
  ActionError err{"Aborted", reason, ErrorKind::kUser, false};
  st.phase = kube::kPhaseAborted;
  st.attempt = std::max(1, st.attempt);
  st.completed_at = clock_.Now();
  st.error = err;
  st.Append(kube::kPhaseAborted, st.attempt, clock_.Now(),
            absl::StrCat("abort requested (", reason, ")",
                         st.pod_name.empty() ? std::string() : absl::StrCat(": pod ", st.pod_name, " deleted")),
            &err);
  return WriteStatusAndReport(ta, st);
}

absl::Status TaskActionController::FailWithoutAttempt(const TaskActionView& ta, ActionError error) {
  TaskActionStatus st = ta.status;
  st.phase = kube::kPhaseFailed;
  st.attempt = std::max(1, st.attempt);
  st.completed_at = clock_.Now();
  st.error = error;
  st.Append(kube::kPhaseFailed, st.attempt, clock_.Now(), error.message, &error);
  FLYTE_LOG(kWarn, "executor: {} failed without running: {}", ta.ref.ToString(), error.message);
  return WriteStatusAndReport(ta, st);
}

absl::Status TaskActionController::StartAttempt(const TaskActionView& ta, TaskActionStatus st,
                                                const ActionToRun& action, const TaskToRun& task, int attempt) {
  absl::StatusOr<AttemptPaths> paths = Paths(ta, attempt);
  if (!paths.ok()) return FailWithoutAttempt(ta, ActionError{"InvalidTask", std::string(paths.status().message()),
                                                             ErrorKind::kUser, false});
  absl::StatusOr<std::vector<TaskSecret>> secrets = ResolveSecrets(action);
  if (!secrets.ok()) return SecretsUnresolved(ta, st, secrets.status());
  absl::StatusOr<BuiltPod> pod =
      BuildPod(options_.pod, PodRequest{&action, &task, &*paths, attempt, ta.name, ta.uid, &*secrets});
  if (!pod.ok()) {
    return FailWithoutAttempt(ta, ActionError{"InvalidTask", std::string(pod.status().message()), ErrorKind::kUser,
                                              false});
  }
  if (!secrets->empty()) {
    if (absl::Status s = EnsureAttemptSecret(client_, BuildAttemptSecret(*secrets, pod->pod), ta.uid); !s.ok()) {
      return s;
    }
  }
  if (!pod->task_tmp_dir.empty()) PrepareTaskTmp(options_.pod.data_root, pod->task_tmp_dir);
  absl::StatusOr<kube::Json> created = client_.Create(kube::kPods, options_.ns, pod->pod);
  if (created.ok()) {
    if (attempt == 1) ObservePodCreated(ta);
    std::lock_guard<std::mutex> lock(mu_);
    pods_[pod->name] = PodView::FromJson(*created);
    created_pods_[pod->name] = std::chrono::steady_clock::now();
  } else if (absl::IsInvalidArgument(created.status())) {
    // The API server refuses this task's Pod (e.g. a bad Pod template): retrying cannot help.
    if (absl::Status s = EndAttemptSecrets(pod->name, task); !s.ok()) return s;
    return FailWithoutAttempt(ta, ActionError{"InvalidPod", std::string(created.status().message()), ErrorKind::kUser,
                                              false});
  } else if (!absl::IsAlreadyExists(created.status())) {
    return created.status();  // transport trouble, 403, 429...: again with backoff
  }  // AlreadyExists: made by us before a restart, or by another replica: adopt it.
  std::string event = absl::StrCat("attempt ", attempt, ": pod ", pod->name, " created in namespace ", options_.ns);
  if (!pod->unknown_vars.empty()) {
    absl::StrAppend(&event, "; unknown template variables left as is: ", absl::StrJoin(pod->unknown_vars, ", "));
  }
  st.phase = kube::kPhaseInitializing;
  st.attempt = attempt;
  st.pod_name = pod->name;
  st.started_at.reset();
  st.Append(kube::kPhaseInitializing, attempt, clock_.Now(), event);
  if (attempt == 1 && ta.status.attempt == 0) {
    // The first attempt is not written down yet: its Pod is the record (see FirstAttemptView). The status is
    // written when the Pod is seen running or ends; INITIALIZING is reported now.
    TaskActionView view = ta;
    view.status = std::move(st);
    ReportPending(view);
    return absl::OkStatus();
  }
  return WriteStatusAndReport(ta, st);
}

std::optional<TaskActionView> TaskActionController::FirstAttemptView(const TaskActionView& ta) {
  const std::string name = kube::PodName(ta.ref, 1);
  PodView pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(name);
    if (it == pods_.end() || it->second.task_action != ta.name) return std::nullopt;
    pod = it->second;
  }
  TaskActionView view = ta;
  view.status.phase = kube::kPhaseInitializing;
  view.status.attempt = 1;
  view.status.pod_name = name;
  view.status.Append(kube::kPhaseInitializing, 1, pod.created,
                     absl::StrCat("attempt 1: pod ", name, " created in namespace ", options_.ns));
  return view;
}

absl::Status TaskActionController::AttemptEnded(const TaskActionView& ta, const ActionToRun& action,
                                                const TaskToRun& task, const std::string& phase, ActionError error,
                                                std::string event) {
  TaskActionStatus st = ta.status;
  const int attempt = std::max(1, st.attempt);
  if (absl::Status s = EndAttemptSecrets(st.pod_name, task); !s.ok()) return s;
  if (error.kind == ErrorKind::kSystem) ++st.system_failures;
  bool retry = error.retryable && attempt <= task.max_retries;
  if (retry) absl::StrAppend(&event, "; retrying as attempt ", attempt + 1);
  st.error = error;
  st.Append(phase, attempt, clock_.Now(), event, &error);
  if (retry) return StartAttempt(ta, std::move(st), action, task, attempt + 1);
  st.phase = phase;
  st.completed_at = clock_.Now();
  return WriteStatusAndReport(ta, st);
}

absl::Status TaskActionController::Advance(const TaskActionView& ta) {
  // Anything this process has not reported yet (it restarted, or took over leadership) goes first.
  ReportPending(ta);
  if (ta.action_type != "task") {
    return FailWithoutAttempt(ta, ActionError{"InvalidTask", absl::StrCat("a ", ta.action_type,
                                                                          " action has nothing to run"),
                                              ErrorKind::kUser, false});
  }
  flyteidl2::workflow::EnqueueActionRequest request;
  if (!request.ParseFromString(ta.enqueue_request)) {
    return FailWithoutAttempt(ta, ActionError{"InvalidTask", "spec.enqueueRequest is not an EnqueueActionRequest",
                                              ErrorKind::kUser, false});
  }
  absl::StatusOr<ActionToRun> action = DecodeEnqueuedAction(request);
  if (!action.ok()) {
    return FailWithoutAttempt(ta, ActionError{"InvalidTask", std::string(action.status().message()),
                                              ErrorKind::kUser, false});
  }
  absl::StatusOr<TaskToRun> task = ParseTask(*action);
  if (!task.ok()) {
    return FailWithoutAttempt(ta, ActionError{"InvalidTask", std::string(task.status().message()), ErrorKind::kUser,
                                              false});
  }
  KeepCacheReservation(ta);
  if (ta.status.attempt == 0) {
    // Until the first attempt's status is written, its Pod stands for it (created by this process, or by another
    // before a crash or a change of leader: adopted either way).
    std::optional<TaskActionView> first = FirstAttemptView(ta);
    if (!first) return StartFirstAttempt(ta, *action, *task);  // unless the task output cache has its outputs
    ReportPending(*first);
    return Observe(*first, *action, *task);
  }
  return Observe(ta, *action, *task);
}

absl::Status TaskActionController::Observe(const TaskActionView& ta, const ActionToRun& action_in,
                                           const TaskToRun& task_in) {
  const ActionToRun* action = &action_in;
  const TaskToRun* task = &task_in;

  absl::StatusOr<PodView> pod = FindPod(ta.status.pod_name);
  if (absl::IsNotFound(pod.status())) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = created_pods_.find(ta.status.pod_name);
      if (it != created_pods_.end() && std::chrono::steady_clock::now() - it->second < kPodCreateExpectation) {
        queue_.AddAfter(ta.name, milliseconds(1000));
        return absl::OkStatus();
      }
    }
    if (ta.status.phase == kube::kPhaseRunning) {
      ActionError err{"PodDeleted",
                      absl::StrCat("pod ", ta.status.pod_name, " disappeared while running (node lost, evicted, or "
                                   "deleted by hand)"),
                      ErrorKind::kSystem, true};
      return AttemptEnded(ta, *action, *task, kube::kPhaseFailed, err, err.message);
    }
    // Created but never seen running: create it again (the name is the attempt's; nothing ran twice).
    return StartAttempt(ta, ta.status, *action, *task, ta.status.attempt);
  }
  if (!pod.ok()) return pod.status();

  const common::TimePoint now = clock_.Now();
  PodOutcome outcome = ClassifyPod(*pod, now, options_.image_pull_grace);
  absl::StatusOr<AttemptPaths> paths = Paths(ta, ta.status.attempt);
  // The SDK reports a task error by writing error.pb (and may exit 0): when the shared volume is mounted here
  // too, the document is the verdict, as in the local runtime.
  if (paths.ok() && (outcome.kind == PodOutcome::Kind::kSucceeded || outcome.kind == PodOutcome::Kind::kFailed)) {
    if (std::optional<ActionError> doc = ReadErrorDocument(paths->error_path)) {
      std::string event = absl::StrCat(outcome.event, "; error document found at ", ToFileUri(paths->error_path));
      return AttemptEnded(ta, *action, *task, kube::kPhaseFailed, *doc, event);
    }
  }
  switch (outcome.kind) {
    case PodOutcome::Kind::kWaiting:
      if (outcome.recheck_in) queue_.AddAfter(ta.name, *outcome.recheck_in + milliseconds(100));
      return absl::OkStatus();
    case PodOutcome::Kind::kSucceeded: {
      std::string event = outcome.event;
      if (paths.ok()) {
        // Outputs the task named by its own paths (an in-task File.from_local keeps its /tmp path) must name
        // where later tasks read them before anyone reads the outputs. outputs.pb is readable only when the data
        // volume is mounted here too; else nothing changes.
        OutputBlobPolicy policy{{layout_.data_root(), paths->run_dir}, "", std::nullopt};
        if (pod->task_tmp_on_volume) policy.task_dir = TaskDirOnVolume{kTaskTmp, paths->attempt_dir + "/tmp"};
        absl::StatusOr<OutputBlobChanges> changes = LocalizeOutputBlobs(paths->outputs_path, policy);
        if (!changes.ok()) {
          ActionError err{"OutputLocalizationFailed", std::string(changes.status().message()), ErrorKind::kSystem,
                          true};
          return AttemptEnded(ta, *action, *task, kube::kPhaseFailed, err, absl::StrCat(event, "; ", err.message));
        }
        DescribeOutputChanges(*changes, &event);
      }
      if (absl::Status s = EndAttemptSecrets(pod->name, *task); !s.ok()) return s;
      TaskActionStatus st = ta.status;
      if (paths.ok()) event += RecordInCache(ta, ToFileUri(paths->output_dir), st);
      if (st.phase != kube::kPhaseRunning) st.Append(kube::kPhaseRunning, st.attempt, now, outcome.event);
      st.phase = kube::kPhaseSucceeded;
      st.completed_at = now;
      st.error.reset();
      st.Append(kube::kPhaseSucceeded, st.attempt, now, event);
      return WriteStatusAndReport(ta, st);
    }
    case PodOutcome::Kind::kFailed:
    case PodOutcome::Kind::kTimedOut:
      return AttemptEnded(ta, *action, *task,
                          outcome.kind == PodOutcome::Kind::kTimedOut ? kube::kPhaseTimedOut : kube::kPhaseFailed,
                          *outcome.error, outcome.event);
    case PodOutcome::Kind::kRunning:
      break;
  }
  // Running: record it once, then watch the task's timeout.
  common::TimePoint started = ta.status.started_at.value_or(pod->running_since.value_or(now));
  if (ta.status.phase != kube::kPhaseRunning) {
    TaskActionStatus st = ta.status;
    st.phase = kube::kPhaseRunning;
    st.started_at = started;
    st.Append(kube::kPhaseRunning, st.attempt, now, outcome.event);
    if (absl::Status s = WriteStatusAndReport(ta, st); !s.ok()) return s;
  }
  if (task->timeout.count() > 0) {
    common::TimePoint deadline = started + task->timeout;
    if (now >= deadline) {
      if (absl::Status s = DeletePod(*pod, options_.pod.kill_grace); !s.ok()) return s;
      std::string msg = absl::StrCat("task exceeded its timeout of ", task->timeout.count() / 1000.0,
                                     "s; pod ", pod->name, " deleted");
      TaskActionView current;
      {
        std::lock_guard<std::mutex> lock(mu_);
        current = actions_[ta.name];
      }
      return AttemptEnded(current, *action, *task, kube::kPhaseTimedOut,
                          ActionError{"Timeout", msg, ErrorKind::kUser, true}, msg);
    }
    queue_.AddAfter(ta.name, std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(50));
  }
  return absl::OkStatus();
}

}  // namespace flyte::executor::k8s
