#include "repository/kubernetes_action_queue.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"

namespace flyte::queue {
namespace {

using kube::Json;

constexpr std::chrono::minutes kOwnerCacheTtl{5};
constexpr size_t kOwnerCacheMax = 10000;
constexpr size_t kParallelCreates = 16;

kube::ActionRef Ref(const ActionKey& key) {
  return kube::ActionRef{key.run.org, key.run.project, key.run.domain, key.run.name, key.name};
}

const char* ActionType(SpecKind kind) {
  switch (kind) {
    case SpecKind::kTrace: return "trace";
    case SpecKind::kCondition: return "condition";
    default: return "task";
  }
}

// Whether `object` (a TaskAction) is the one of `ref`.
bool IsActionOf(const Json& object, const kube::ActionRef& ref) {
  absl::StatusOr<kube::TaskActionSpec> spec = kube::ParseTaskActionSpec(object);
  return spec.ok() && spec->ref == ref;
}

bool Deleting(const Json& object) {
  return object.contains("metadata") && object["metadata"].contains("deletionTimestamp");
}

// The executor reports the reason with ABORTED; the annotation carries it there (best effort: a failure here
// still deletes, and the executor then says the TaskAction was deleted).
void AnnotateAbort(kube::Client& client, const std::string& ns, const std::string& name, const std::string& reason) {
  if (reason.empty()) return;
  Json patch = {{"metadata", {{"annotations", {{"flyte.org/abort-reason", reason.substr(0, 1024)}}}}}};
  (void)client.Patch(kube::kTaskActions, ns, name, patch, kube::PatchType::kMerge);
}

kube::DeleteOptions Foreground() {
  kube::DeleteOptions o;
  o.propagation_policy = "Foreground";
  return o;
}

}  // namespace

KubernetesActionQueue::KubernetesActionQueue(kube::Client& client, std::string ns)
    : client_(client), ns_(std::move(ns)) {}

absl::StatusOr<Json> KubernetesActionQueue::Find(const kube::ActionRef& ref) {
  for (const std::string& name : {kube::TaskActionName(ref), kube::TaskActionFallbackName(ref)}) {
    absl::StatusOr<Json> got = client_.Get(kube::kTaskActions, ns_, name);
    if (absl::IsNotFound(got.status())) continue;
    if (!got.ok()) return got.status();
    if (IsActionOf(*got, ref)) return got;
  }
  return absl::NotFoundError(absl::StrCat("action ", ref.ToString(), " is not queued"));
}

std::optional<kube::OwnerRef> KubernetesActionQueue::ParentOwner(const kube::ActionRef& parent) {
  const std::string key = parent.ToString();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find(key);
    if (it != owners_.end() && std::chrono::steady_clock::now() - it->second.at < kOwnerCacheTtl) {
      return it->second.owner;
    }
  }
  absl::StatusOr<Json> found = Find(parent);
  if (!found.ok()) return std::nullopt;
  kube::OwnerRef owner{(*found)["metadata"].value("name", ""), (*found)["metadata"].value("uid", "")};
  std::lock_guard<std::mutex> lock(mu_);
  if (owners_.size() >= kOwnerCacheMax) owners_.clear();
  owners_[key] = CachedOwner{owner, std::chrono::steady_clock::now()};
  return owner;
}

absl::StatusOr<bool> KubernetesActionQueue::Enqueue(const NewEntry& entry, TimePoint now) {
  kube::TaskActionSpec spec;
  spec.ref = Ref(entry.key);
  spec.parent_action = entry.parent.value_or("");
  spec.action_type = ActionType(entry.spec);
  spec.task_type = entry.task_type;
  spec.short_name = entry.short_name;
  spec.input_uri = entry.input_uri;
  spec.run_output_base = entry.run_output_base;
  spec.group = entry.group;
  spec.enqueue_request = entry.payload;
  spec.enqueued_at = now;
  std::optional<kube::OwnerRef> owner;
  if (!spec.parent_action.empty()) {
    kube::ActionRef parent = spec.ref;
    parent.action = spec.parent_action;
    owner = ParentOwner(parent);
    if (!owner) {
      // Its parent is gone (aborted, or cleaned up after it finished): this child is not owned by anything, so an
      // abort of the run still reaches it through the run's labels.
      FLYTE_LOG(kWarn, "queue: parent {} of {} has no TaskAction; creating it without an owner", parent.ToString(),
                spec.ref.ToString());
    }
  }
  for (const std::string& name : {kube::TaskActionName(spec.ref), kube::TaskActionFallbackName(spec.ref)}) {
    absl::StatusOr<Json> created = client_.Create(kube::kTaskActions, ns_, kube::BuildTaskAction(spec, ns_, name, owner));
    if (created.ok()) return true;
    if (!absl::IsAlreadyExists(created.status())) return created.status();
    absl::StatusOr<Json> existing = client_.Get(kube::kTaskActions, ns_, name);
    if (absl::IsNotFound(existing.status())) {
      // Deleted between our create and get (an abort that finished): it was queued once; do not run it again.
      return false;
    }
    if (!existing.ok()) return existing.status();
    if (IsActionOf(*existing, spec.ref)) return false;  // already queued
    // Taken by another action with the same run and action names: try the fallback name.
  }
  return absl::InternalError(absl::StrCat("both TaskAction names of ", spec.ref.ToString(),
                                          " are taken by other actions"));
}

absl::StatusOr<std::vector<bool>> KubernetesActionQueue::EnqueueMany(const std::vector<NewEntry>& entries,
                                                                     TimePoint now) {
  // One create per entry, kParallelCreates at a time: a sequence of round trips would cap a fan-out at the API
  // server's latency. An entry whose parent is in the same batch waits for a later wave (its owner reference
  // needs the parent's uid); a key repeated within the batch is created by its first entry only.
  std::vector<bool> out(entries.size(), false);
  std::vector<int> wave(entries.size(), 0);
  std::map<std::string, size_t> first;  // key -> first index
  for (size_t i = 0; i < entries.size(); ++i) first.emplace(entries[i].key.ToString(), i);
  bool changed = true;
  for (int pass = 0; changed && pass < 64; ++pass) {
    changed = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].parent) continue;
      ActionKey parent = entries[i].key;
      parent.name = *entries[i].parent;
      auto it = first.find(parent.ToString());
      if (it != first.end() && it->second != i && wave[i] <= wave[it->second]) {
        wave[i] = wave[it->second] + 1;
        changed = true;
      }
    }
  }
  const int last_wave = entries.empty() ? 0 : *std::max_element(wave.begin(), wave.end());
  for (int w = 0; w <= last_wave; ++w) {
    std::vector<size_t> todo;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (wave[i] == w && first[entries[i].key.ToString()] == i) todo.push_back(i);
    }
    std::atomic<size_t> next{0};
    std::mutex mu;
    absl::Status failure;
    auto work = [&] {
      for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
        absl::StatusOr<bool> created = Enqueue(entries[todo[k]], now);
        std::lock_guard<std::mutex> lock(mu);
        if (created.ok()) {
          out[todo[k]] = *created;
        } else if (failure.ok()) {
          failure = created.status();
        }
      }
    };
    const size_t threads = std::min(todo.size(), kParallelCreates);
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (!failure.ok()) return failure;  // the ones created stay (enqueueing them again is idempotent)
  }
  return out;
}

absl::StatusOr<int64_t> KubernetesActionQueue::AbortRun(const RunKey& run, const std::string& reason, TimePoint) {
  kube::ActionRef any{run.org, run.project, run.domain, run.name, ""};
  const std::string selector = kube::RunSelector(any);
  absl::StatusOr<kube::ListResult> roots =
      client_.List(kube::kTaskActions, ns_, kube::ListOptions{.label_selector = selector + "," + kube::kLabelIsRoot + "=true"});
  if (!roots.ok()) return roots.status();
  int64_t flagged = 0;
  for (const Json& root : roots->items) {
    absl::StatusOr<kube::TaskActionSpec> spec = kube::ParseTaskActionSpec(root);
    if (!spec.ok() || spec->ref.org != run.org || spec->ref.project != run.project ||
        spec->ref.domain != run.domain || spec->ref.run != run.name || Deleting(root)) {
      continue;
    }
    AnnotateAbort(client_, ns_, root["metadata"].value("name", ""), reason);
    absl::Status s = client_.Delete(kube::kTaskActions, ns_, root["metadata"].value("name", ""), Foreground());
    if (s.ok()) ++flagged;
    else if (!absl::IsNotFound(s)) return s;
  }
  // Whatever of the run is not under its root (a child whose parent was already gone when it was enqueued).
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  if (absl::Status s = client_.DeleteCollection(kube::kTaskActions, ns_, selector, background); !s.ok()) return s;
  FLYTE_LOG(kInfo, "queue: run {}/{}/{}/{} aborted ({}): TaskActions deleted", run.org, run.project, run.domain,
            run.name, reason);
  return flagged;
}

absl::StatusOr<int64_t> KubernetesActionQueue::AbortAction(const ActionKey& action, const std::string& reason,
                                                           TimePoint) {
  absl::StatusOr<Json> found = Find(Ref(action));
  if (!found.ok()) return found.status();
  if (Deleting(*found)) return 0;
  AnnotateAbort(client_, ns_, (*found)["metadata"].value("name", ""), reason);
  absl::Status s = client_.Delete(kube::kTaskActions, ns_, (*found)["metadata"].value("name", ""), Foreground());
  if (absl::IsNotFound(s)) return 0;
  if (!s.ok()) return s;
  FLYTE_LOG(kInfo, "queue: action {} aborted ({}): TaskAction deleted", action.ToString(), reason);
  return 1;
}

absl::StatusOr<QueueEntry> KubernetesActionQueue::Get(const ActionKey& key) {
  absl::StatusOr<Json> found = Find(Ref(key));
  if (!found.ok()) return found.status();
  absl::StatusOr<kube::TaskActionSpec> spec = kube::ParseTaskActionSpec(*found);
  if (!spec.ok()) return absl::InternalError(std::string(spec.status().message()));
  QueueEntry e;
  e.key = key;
  if (!spec->parent_action.empty()) e.parent = spec->parent_action;
  e.payload = spec->enqueue_request;
  e.abort_requested = Deleting(*found);
  std::string phase = (*found).contains("status") ? (*found)["status"].value("phase", "") : "";
  e.state = kube::IsTerminalPhase(phase)          ? EntryState::kDone
            : (phase.empty() || phase == "Queued") ? EntryState::kReady
                                                   : EntryState::kLeased;
  if (absl::StatusOr<std::chrono::system_clock::time_point> t =
          kube::ParseTime((*found)["metadata"].value("creationTimestamp", ""));
      t.ok()) {
    e.enqueued_at = *t;
  }
  return e;
}

absl::StatusOr<QueueDepth> KubernetesActionQueue::Depth() {
  QueueDepth d;
  kube::ListOptions o;
  o.label_selector = std::string(kube::kLabelManagedBy) + "=" + kube::kManagedByQueue;
  o.limit = 500;
  while (true) {
    absl::StatusOr<kube::ListResult> page = client_.List(kube::kTaskActions, ns_, o);
    if (!page.ok()) return page.status();
    for (const Json& item : page->items) {
      std::string phase = item.contains("status") ? item["status"].value("phase", "") : "";
      if (kube::IsTerminalPhase(phase)) ++d.done;
      else if (phase.empty() || phase == kube::kPhaseQueued) ++d.ready;
      else ++d.leased;
    }
    if (page->continue_token.empty()) break;
    o.continue_token = page->continue_token;
  }
  return d;
}

absl::Status KubernetesActionQueue::Ping() {
  return client_.List(kube::kTaskActions, ns_, kube::ListOptions{.limit = 1}).status();
}

}  // namespace flyte::queue
