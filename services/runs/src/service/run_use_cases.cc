#include "service/run_use_cases.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unordered_map>

#include "domain/naming.h"
#include "service/code_bundle.h"
#include "service/live_gate.h"
#include "service/run_inputs_file.h"

namespace flyte::runs {
namespace {

constexpr uint32_t kSnapshotPage = 200;

std::string RunPath(const std::string& prefix, const RunKey& run) {
  std::string base = prefix;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + run.project + "/" + run.domain + "/" + run.name;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Keeps only the newest version of each action a watch has sent, so a change seen both in the snapshot and live
// (it happened between subscribe and snapshot) is not sent twice, and an older snapshot never overwrites a newer.
class VersionFilter {
 public:
  bool Fresh(const Action& a) {
    auto [it, inserted] = seen_.emplace(a.key.name, a.version);
    if (inserted) return true;
    if (a.version <= it->second) return false;
    it->second = a.version;
    return true;
  }

 private:
  std::unordered_map<std::string, int64_t> seen_;
};

}  // namespace

absl::StatusOr<std::string> ReadLocalBlob(const std::string& uri) {
  if (!IsLocalUri(uri)) return absl::UnimplementedError("cannot read " + uri + " here");
  std::ifstream in(LocalPathOf(uri), std::ios::binary);
  if (!in) return absl::NotFoundError(uri + " does not exist");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::Status CheckWatchActionsFilters(const std::vector<Filter>& filters) {
  for (size_t i = 0; i < filters.size(); ++i) {
    const Filter& f = filters[i];
    bool ok = (f.field == Field::kPhase && f.op == FilterOp::kValueIn) ||
              (f.field == Field::kName && f.op == FilterOp::kContainsCaseInsensitive);
    if (!ok) {
      return absl::InvalidArgumentError("filter[" + std::to_string(i) +
                                        "] must be PHASE VALUE_IN or NAME CONTAINS_CASE_INSENSITIVE");
    }
  }
  return absl::OkStatus();
}

bool MeetsFilters(const Action& a, const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    if (f.field == Field::kPhase) {
      const std::string phase = std::to_string(static_cast<int>(a.phase));
      if (std::find(f.values.begin(), f.values.end(), phase) == f.values.end()) return false;
    } else if (f.field == Field::kName) {
      const std::string name = Lower(a.key.name);
      bool any = false;
      for (const auto& v : f.values) any = any || name.find(Lower(v)) != std::string::npos;
      if (!any) return false;
    }
  }
  return true;
}

RunUseCases::RunUseCases(Store& store, ChangeDispatcher& changes, common::Clock& clock, RunUseCasesOptions options,
                         QueueDispatcher* queue, ProjectUseCases* projects)
    : store_(store),
      changes_(changes),
      clock_(clock),
      options_(std::move(options)),
      blobs_(options_.storage_prefix),
      queue_(queue),
      projects_(projects),
      recovery_(store.Actions(), options_.record_recovered_from) {}

absl::StatusOr<Action> RunUseCases::CreateRun(const CreateRunParams& p) {
  Action root;
  root.key.run = p.run;
  if (root.key.run.name.empty()) root.key.run.name = GenerateRunName();
  if (absl::Status s = ValidateRunName(root.key.run.name); !s.ok()) {
    return absl::InvalidArgumentError("run name " + std::string(s.message()));
  }
  root.key.name = kRootActionName;
  if (projects_ != nullptr) {
    if (absl::Status s = projects_->CheckScope(p.run.project, p.run.domain); !s.ok()) return s;
  }
  if (p.recovery) {
    if (absl::Status s = recovery_.CheckSource(root.key.run, *p.recovery); !s.ok()) return s;
  }

  Task task;
  if (p.task_id) {
    absl::StatusOr<Task> deployed = store_.Tasks().Get(*p.task_id);
    if (deployed.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("task " + p.task_id->project + "/" + p.task_id->domain + "/" + p.task_id->name +
                                 " version " + p.task_id->version + " is not deployed");
    }
    if (!deployed.ok()) return deployed.status();
    task = std::move(*deployed);
  } else if (p.inline_task) {
    task = *p.inline_task;
    if (absl::Status s = CheckCodeBundle(blobs_, task.code_bundle_uri); !s.ok()) return s;
  } else {
    return absl::InvalidArgumentError("a task id or an inline task spec is required");
  }

  const std::string run_path = RunPath(options_.storage_prefix, root.key.run);
  root.parent = std::nullopt;
  root.type = ActionType::kTask;
  root.phase = Phase::kQueued;
  root.task_org = task.key.org;
  root.task_project = task.key.project;
  root.task_domain = task.key.domain;
  root.task_name = task.key.name;
  root.task_version = task.key.version;
  root.task_type = task.task_type;
  root.short_name = task.short_name;
  root.environment = task.environment;
  root.task_spec = task.spec;
  root.run_spec = p.run_spec;
  root.metadata = p.metadata;
  root.request_digest = p.request_digest;
  root.input_uri = p.offloaded_input_uri.empty() ? NewInputsFileUri(run_path) : p.offloaded_input_uri;
  root.run_output_base = run_path + "/";
  // At the precision the database keeps, so the answer, watch events and later reads show the same time.
  root.created_at = common::FromUnixMicros(common::ToUnixMicros(clock_.Now()));
  root.updated_at = root.created_at;

  // The inputs first, in a file of this request's own (run_inputs_file.h), then the run with its enqueue, labels
  // and change record in one insert: a taken name fails there, and the file, which no run refers to, is removed.
  // So neither a duplicate request nor a concurrent creator of the same name touches the inputs of the run that
  // owns it, and a run is never committed (hence never sent to queue-service) without its inputs. With a queue,
  // once CreateRun answers OK the run reaches queue-service eventually, whatever is down or crashes in between.
  ActionRepository::RunCreation with;
  with.labels = p.labels;
  with.recovery = p.recovery;
  if (queue_ != nullptr) with.enqueue = QueueCommand{0, QueueCommandKind::kEnqueue, root.key, "", "", 0};
  const bool writes_inputs = p.offloaded_input_uri.empty() && IsLocalUri(root.input_uri);
  if (writes_inputs) {
    static const std::string kNoInputs;
    if (absl::Status s = WriteNewInputsFile(root.input_uri, p.inputs ? *p.inputs : kNoInputs); !s.ok()) return s;
  }
  absl::StatusOr<Action> created = store_.Actions().CreateRunWith(root, with);
  // Unavailable: the connection broke, the insert may have committed; the file stays (at worst unreferenced).
  if (writes_inputs && !created.ok() && created.status().code() != absl::StatusCode::kUnavailable) {
    RemoveInputsFile(root.input_uri);
  }
  if (created.status().code() == absl::StatusCode::kAlreadyExists) {
    return ExistingRunFor(root.key.run, p.request_digest);
  }
  if (!created.ok()) return created.status();
  if (queue_ != nullptr) queue_->Wake();
  return created;
}

absl::StatusOr<Action> RunUseCases::ExistingRunFor(const RunKey& run, const std::string& request_digest) {
  absl::StatusOr<Action> existing = store_.Actions().Get(ActionKey{run, kRootActionName});
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  if (existing.ok() && !request_digest.empty() && existing->request_digest == request_digest) return existing;
  return absl::AlreadyExistsError("run " + run.name +
                                  " already exists (only the identical CreateRun request gets it back)");
}

absl::Status RunUseCases::EnqueueAction(Action child, const std::string& request) {
  if (queue_ == nullptr) {
    return absl::FailedPreconditionError("this runs-service forwards to no queue-service (runs.queue.endpoint is empty)");
  }
  if (absl::Status named = CheckChildNames(child); !named.ok()) return named;
  absl::StatusOr<std::optional<Action>> recovered = recovery_.Recovered(child, clock_.Now());
  if (!recovered.ok()) return recovered.status();
  if (*recovered) {
    // Ends here: nothing is queued, no process starts; the parent's watch sees it RECOVERED with the outputs.
    absl::Status s = store_.Actions().CreateAction(**recovered);
    return s.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : s;
  }
  child.phase = Phase::kQueued;
  child.created_at = clock_.Now();
  child.updated_at = child.created_at;
  absl::Status s = store_.Actions().CreateActionAndRecord(
      child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", request, 0});
  // Enqueueing the same child again (a task retrying its call) is fine: the first one is already on its way.
  if (s.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();
  if (!s.ok()) return s;
  queue_->Wake();
  return absl::OkStatus();
}

absl::StatusOr<std::string> RunUseCases::RunSpecOf(const RunKey& run) {
  if (std::optional<std::string> known = run_specs_.Find(run)) return *std::move(known);
  absl::StatusOr<Action> root = store_.Actions().Get(ActionKey{run, kRootActionName});
  if (root.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError("run " + run.name + " not found");
  if (!root.ok()) return root.status();
  run_specs_.Remember(run, root->run_spec);
  return root->run_spec;
}

absl::StatusOr<ActionWithAttempts> RunUseCases::GetRunDetails(const RunKey& run) {
  absl::StatusOr<ActionWithAttempts> a = store_.Actions().GetWithAttempts(ActionKey{run, kRootActionName});
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("run " + run.name + " not found");
  }
  return a;
}

absl::StatusOr<Page<Action>> RunUseCases::ListRuns(ListQuery query) {
  query.roots_only = true;
  return store_.Actions().List(query);
}

absl::Status RunUseCases::AbortRun(const RunKey& run, const std::string& reason) {
  const ActionKey root{run, kRootActionName};
  // With a queue, the abort is recorded for it in the same transaction, so the executor stops the processes even
  // if queue-service is down right now.
  absl::StatusOr<std::vector<ActionKey>> changed =
      queue_ != nullptr ? store_.Actions().AbortAndRecord(root, reason, clock_.Now(),
                                                          QueueCommand{0, QueueCommandKind::kAbortRun, root, reason,
                                                                       "", 0})
                        : store_.Actions().Abort(root, reason, clock_.Now());
  if (changed.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("run " + run.name + " not found");
  }
  if (!changed.ok()) return changed.status();
  if (queue_ != nullptr && !changed->empty()) queue_->Wake();
  return absl::OkStatus();
}

absl::StatusOr<ActionWithAttempts> RunUseCases::GetActionDetails(const ActionKey& key) {
  absl::StatusOr<ActionWithAttempts> a = store_.Actions().GetWithAttempts(key);
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  return a;
}

absl::StatusOr<ActionData> RunUseCases::GetActionData(const ActionKey& key) {
  absl::StatusOr<Action> a = store_.Actions().Get(key);
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  if (!a.ok()) return a.status();
  ActionData data;
  auto read = [](std::string uri, const char* file) -> std::string {
    if (uri.empty()) return "";
    if (uri.size() < 3 || uri.compare(uri.size() - 3, 3, ".pb") != 0) {
      if (uri.back() != '/') uri.push_back('/');
      uri += file;
    }
    absl::StatusOr<std::string> blob = ReadLocalBlob(uri);
    return blob.ok() ? *blob : "";  // not stored here (remote or not yet written): empty, as documented
  };
  data.inputs = read(a->input_uri, "inputs.pb");
  data.outputs = read(a->output_uri, "outputs.pb");
  return data;
}

absl::StatusOr<Page<Action>> RunUseCases::ListActions(ListQuery query) {
  if (!query.run_name) return absl::InvalidArgumentError("run name is required");
  RunKey run{query.org, query.project, query.domain, *query.run_name};
  absl::StatusOr<Action> root = store_.Actions().Get(ActionKey{run, kRootActionName});
  if (root.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("run " + run.name + " not found");
  }
  if (!root.ok()) return root.status();
  return store_.Actions().List(query);
}

absl::Status RunUseCases::AbortAction(const ActionKey& key, const std::string& reason) {
  absl::StatusOr<std::vector<ActionKey>> changed =
      queue_ != nullptr ? store_.Actions().AbortAndRecord(key, reason, clock_.Now(),
                                                          QueueCommand{0, QueueCommandKind::kAbortAction, key, reason,
                                                                       "", 0})
                        : store_.Actions().Abort(key, reason, clock_.Now());
  if (changed.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  if (!changed.ok()) return changed.status();
  if (queue_ != nullptr && !changed->empty()) queue_->Wake();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Action>> RunUseCases::ListAll(ListQuery query) {
  std::vector<Action> all;
  query.limit = kSnapshotPage;
  query.offset = 0;
  while (true) {
    absl::StatusOr<Page<Action>> page = store_.Actions().List(query);
    if (!page.ok()) return page.status();
    for (auto& a : page->items) all.push_back(std::move(a));
    if (!page->next_offset || page->items.empty()) break;
    query.offset = *page->next_offset;
  }
  return all;
}

absl::StatusOr<WatchHandle> RunUseCases::WatchActionDetails(const ActionKey& key, DetailsSink send, WatchEnd end) {
  // The gate's handler sends one change; it ends the watch (returns false) once a terminal state went out.
  auto versions = std::make_shared<VersionFilter>();
  auto gate = std::make_shared<LiveGate<ActionSnapshot>>(
      [send, end, versions](const ActionSnapshot& s) -> bool {
        if (!versions->Fresh(s->action)) return true;
        if (!send(*s)) return false;
        if (IsTerminal(s->action.phase)) {
          end.finish(absl::OkStatus());
          return false;
        }
        return true;
      });
  WatchHandle handle =
      changes_.Subscribe(ChangeDispatcher::ActionTopic(key), [gate](const ActionSnapshot& s) { gate->OnEvent(s); });

  absl::StatusOr<ActionWithAttempts> current = store_.Actions().GetWithAttempts(key);
  if (!current.ok()) {
    gate->Close();
    if (current.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
    }
    return current.status();
  }
  versions->Fresh(current->action);
  if (!send(*current)) {
    gate->Close();
    return WatchHandle();
  }
  if (IsTerminal(current->action.phase)) {
    gate->Close();
    end.finish(absl::OkStatus());
    return WatchHandle();
  }
  gate->Open();
  return handle;
}

absl::StatusOr<WatchHandle> RunUseCases::WatchRunDetails(const RunKey& run, DetailsSink send, WatchEnd end) {
  absl::StatusOr<WatchHandle> h = WatchActionDetails(ActionKey{run, kRootActionName}, std::move(send), std::move(end));
  if (h.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError("run " + run.name + " not found");
  return h;
}

absl::StatusOr<WatchHandle> RunUseCases::WatchRuns(const RunsScope& scope, RunsSink send, size_t snapshot_limit) {
  auto matches = [scope](const Action& a) {
    if (a.parent) return false;
    if (!scope.project.empty() && a.key.run.project != scope.project) return false;
    if (!scope.domain.empty() && a.key.run.domain != scope.domain) return false;
    if (scope.task) {
      if (a.task_name != scope.task->name || a.task_project != scope.task->project ||
          a.task_domain != scope.task->domain) {
        return false;
      }
      if (!scope.task->version.empty() && a.task_version != scope.task->version) return false;
    }
    return true;
  };
  auto versions = std::make_shared<VersionFilter>();
  auto gate = std::make_shared<LiveGate<ActionSnapshot>>([send, matches, versions](const ActionSnapshot& s) {
    if (!matches(s->action)) return true;
    auto key_version = s->action;
    // Runs of different projects share one org topic; key the version filter by the run, not the action name.
    key_version.key.name = s->action.key.run.project + "/" + s->action.key.run.domain + "/" + s->action.key.run.name;
    if (!versions->Fresh(key_version)) return true;
    return send({s->action});
  });
  const std::string topic = scope.project.empty()
                                ? ChangeDispatcher::OrgTopic(scope.org)
                                : ChangeDispatcher::ProjectTopic(scope.org, scope.project, scope.domain);
  WatchHandle handle = changes_.Subscribe(topic, [gate](const ActionSnapshot& s) { gate->OnEvent(s); });

  ListQuery q;
  q.org = scope.org;
  q.project = scope.project;
  q.domain = scope.domain;
  q.roots_only = true;
  q.limit = static_cast<uint32_t>(std::min<size_t>(snapshot_limit, kSnapshotPage));
  if (scope.task) {
    q.filters.push_back({Field::kTaskName, FilterOp::kEqual, {scope.task->name}});
    if (!scope.task->version.empty()) q.filters.push_back({Field::kTaskVersion, FilterOp::kEqual, {scope.task->version}});
  }
  absl::StatusOr<Page<Action>> page = store_.Actions().List(q);
  if (!page.ok()) {
    gate->Close();
    return page.status();
  }
  std::vector<Action> snapshot;
  for (auto& a : page->items) {
    if (!matches(a)) continue;
    Action keyed = a;
    keyed.key.name = a.key.run.project + "/" + a.key.run.domain + "/" + a.key.run.name;
    versions->Fresh(keyed);
    snapshot.push_back(std::move(a));
  }
  if (!snapshot.empty() && !send(snapshot)) {
    gate->Close();
    return WatchHandle();
  }
  gate->Open();
  return handle;
}

namespace {

// What WatchActions remembers about a run to compute children counts without a query per change.
struct RunTree {
  std::unordered_map<std::string, Action> nodes;  // latest known state of every action of the run

  std::map<int, int> ChildrenCounts(const std::string& name) const {
    std::map<int, int> counts;
    for (const auto& [child, node] : nodes) {
      if (node.parent && *node.parent == name) counts[static_cast<int>(node.phase)]++;
    }
    return counts;
  }
};

int Depth(const std::unordered_map<std::string, const Action*>& by_name, const Action& a) {
  int depth = 0;
  const Action* cur = &a;
  while (cur->parent && depth < 1000) {
    auto it = by_name.find(*cur->parent);
    if (it == by_name.end()) break;
    cur = it->second;
    ++depth;
  }
  return depth;
}

}  // namespace

absl::StatusOr<WatchHandle> RunUseCases::WatchActions(const RunKey& run, std::vector<Filter> filters,
                                                      ActionsSink send) {
  if (absl::Status s = CheckWatchActionsFilters(filters); !s.ok()) return s;
  auto tree = std::make_shared<RunTree>();
  auto versions = std::make_shared<VersionFilter>();
  auto enrich = [tree, filters](const Action& a) {
    return EnrichedActionView{a, MeetsFilters(a, filters), tree->ChildrenCounts(a.key.name)};
  };
  // `tree` is only touched by the snapshot (before Open) and then by the gate's handler, one call at a time.
  auto gate = std::make_shared<LiveGate<ActionSnapshot>>(
      [send, versions, tree, enrich](const ActionSnapshot& s) -> bool {
        const Action& a = s->action;
        if (!versions->Fresh(a)) return true;
        tree->nodes[a.key.name] = a;
        std::vector<EnrichedActionView> batch{enrich(a)};
        if (a.parent) {
          // The parent's children counts moved; its row comes from memory, not from another query per watcher.
          auto parent = tree->nodes.find(*a.parent);
          if (parent != tree->nodes.end()) batch.push_back(enrich(parent->second));
        }
        return send(batch);
      });
  WatchHandle handle =
      changes_.Subscribe(ChangeDispatcher::RunTopic(run), [gate](const ActionSnapshot& s) { gate->OnEvent(s); });

  absl::StatusOr<Action> root = store_.Actions().Get(ActionKey{run, kRootActionName});
  if (!root.ok()) {
    gate->Close();
    if (root.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError("run " + run.name + " not found");
    return root.status();
  }
  ListQuery q;
  q.org = run.org;
  q.project = run.project;
  q.domain = run.domain;
  q.run_name = run.name;
  absl::StatusOr<std::vector<Action>> all = ListAll(q);
  if (!all.ok()) {
    gate->Close();
    return all.status();
  }
  std::unordered_map<std::string, const Action*> by_name;
  for (const Action& a : *all) by_name[a.key.name] = &a;
  std::vector<std::pair<int, const Action*>> ordered;
  for (const Action& a : *all) {
    ordered.push_back({Depth(by_name, a), &a});
    tree->nodes[a.key.name] = a;
    versions->Fresh(a);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<EnrichedActionView> snapshot;
  for (const auto& [depth, a] : ordered) snapshot.push_back(enrich(*a));
  if (!send(snapshot)) {
    gate->Close();
    return WatchHandle();
  }
  gate->Open();
  return handle;
}

absl::StatusOr<WatchHandle> RunUseCases::WatchClusterEvents(const ActionKey& key, uint32_t attempt, EventsSink send,
                                                            WatchEnd end) {
  auto sent = std::make_shared<size_t>(0);
  // Sends the events of `attempt` not sent yet; returns false when the watch is over.
  auto step = [attempt, sent, send, end](const ActionWithAttempts& a, bool* ended) -> bool {
    *ended = false;
    for (const Attempt& at : a.attempts) {
      if (at.attempt != attempt) continue;
      if (at.cluster_events.size() > *sent) {
        std::vector<ClusterEvent> fresh(at.cluster_events.begin() + static_cast<long>(*sent), at.cluster_events.end());
        *sent = at.cluster_events.size();
        if (!send(fresh)) return false;
      }
    }
    if (IsTerminal(a.action.phase)) {
      *ended = true;
      end.finish(absl::OkStatus());
      return false;
    }
    return true;
  };
  auto gate = std::make_shared<LiveGate<ActionSnapshot>>([step](const ActionSnapshot& s) {
    bool ended = false;
    return step(*s, &ended);
  });
  WatchHandle handle =
      changes_.Subscribe(ChangeDispatcher::ActionTopic(key), [gate](const ActionSnapshot& s) { gate->OnEvent(s); });
  absl::StatusOr<ActionWithAttempts> current = store_.Actions().GetWithAttempts(key);
  if (!current.ok()) {
    gate->Close();
    if (current.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
    }
    return current.status();
  }
  bool ended = false;
  if (!step(*current, &ended)) {
    gate->Close();
    return WatchHandle();
  }
  gate->Open();
  return handle;
}

}  // namespace flyte::runs
