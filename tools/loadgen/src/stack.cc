#include "stack.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"
#include "flyteidl2/workflow/state_service.grpc.pb.h"
#include "scenarios.h"

namespace flyte::loadgen {
namespace {

namespace wf = flyteidl2::workflow;
using Clock = std::chrono::steady_clock;
using flyteidl2::common::ACTION_PHASE_SUCCEEDED;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool IsFailure(flyteidl2::common::ActionPhase p) {
  return p == flyteidl2::common::ACTION_PHASE_FAILED || p == flyteidl2::common::ACTION_PHASE_ABORTED ||
         p == flyteidl2::common::ACTION_PHASE_TIMED_OUT;
}

struct Common {
  Scope scope;
  std::string target;
  int executor_pid = 0;
  int rss_every = 1000;
  std::chrono::nanoseconds wait_timeout{};
  std::chrono::nanoseconds rpc_timeout{};
  std::string storage_prefix;
  std::string command;  // the no-op task's shell command
  // KEY=VALUE: the parent task runs from a Pod template carrying this annotation (on Kubernetes, a kwok test
  // cluster is told by it to keep the parent's Pod running); "" = a plain container task.
  std::string parent_annotation;
  bool quiet = false;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<wf::RunService::Stub> runs;
  std::unique_ptr<wf::QueueService::Stub> queue;
  std::unique_ptr<wf::StateService::Stub> state;
};

absl::StatusOr<Common> MakeCommon(const Flags& f, const std::vector<std::string>& extra_known) {
  std::vector<std::string> known = {"target", "org", "project", "domain", "executor-pid", "rss-every",
                                    "wait-timeout", "timeout", "storage-prefix", "command", "quiet", "json",
                                    "parent-annotation"};
  known.insert(known.end(), extra_known.begin(), extra_known.end());
  if (auto s = f.CheckKnown(known); !s.ok()) return s;
  Common c;
  c.scope = {f.Str("org", "local"), f.Str("project", "flytesnacks"), f.Str("domain", "development")};
  c.target = f.Str("target", "127.0.0.1:8090");
  auto pid = f.Num("executor-pid", 0);
  auto every = f.Num("rss-every", 1000);
  auto wt = f.Dur("wait-timeout", "900s");
  auto rt = f.Dur("timeout", "10s");
  if (!pid.ok()) return pid.status();
  if (!every.ok()) return every.status();
  if (!wt.ok()) return wt.status();
  if (!rt.ok()) return rt.status();
  c.executor_pid = static_cast<int>(*pid);
  c.rss_every = std::max(1, static_cast<int>(*every));
  c.wait_timeout = *wt;
  c.rpc_timeout = *rt;
  c.storage_prefix = f.Str("storage-prefix", "file:///tmp/flyte-loadgen-data");
  if (!c.storage_prefix.empty() && c.storage_prefix.back() != '/') c.storage_prefix.push_back('/');
  c.command = f.Str("command", "true");
  c.parent_annotation = f.Str("parent-annotation", "");
  if (!c.parent_annotation.empty() && c.parent_annotation.find('=') == std::string::npos) {
    return absl::InvalidArgumentError("--parent-annotation wants KEY=VALUE, got '" + c.parent_annotation + "'");
  }
  c.quiet = f.Bool("quiet");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  c.channel = grpc::CreateCustomChannel(c.target, grpc::InsecureChannelCredentials(), args);
  if (!c.channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError("cannot connect to " + c.target);
  }
  c.runs = wf::RunService::NewStub(c.channel);
  c.queue = wf::QueueService::NewStub(c.channel);
  c.state = wf::StateService::NewStub(c.channel);
  return c;
}

void SetDeadline(grpc::ClientContext* ctx, std::chrono::nanoseconds d) {
  ctx->set_deadline(std::chrono::system_clock::now() + d);
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), what + ": " + s.error_message());
}

void FillTemplate(const Common& c, const std::string& name, const std::string& shell,
                  flyteidl2::task::TaskSpec* spec) {
  spec->set_short_name(name);
  auto* tmpl = spec->mutable_task_template();
  auto* tid = tmpl->mutable_id();
  tid->set_resource_type(flyteidl2::core::TASK);
  tid->set_org(c.scope.org);
  tid->set_project(c.scope.project);
  tid->set_domain(c.scope.domain);
  tid->set_name(name);
  tid->set_version("v1");
  tmpl->set_type("container");
  tmpl->mutable_interface();
  auto* ct = tmpl->mutable_container();
  ct->set_image("local");
  ct->add_command("sh");
  ct->add_command("-c");
  ct->add_command(shell);
}

// The same task with its container in a Pod template annotated `key=value`.
void UsePodTemplate(const std::string& annotation, flyteidl2::task::TaskSpec* spec) {
  auto* tmpl = spec->mutable_task_template();
  const flyteidl2::core::Container ct = tmpl->container();
  auto* pod = tmpl->mutable_k8s_pod();  // clears `container` (one target)
  pod->set_primary_container_name("main");
  size_t eq = annotation.find('=');
  (*pod->mutable_metadata()->mutable_annotations())[annotation.substr(0, eq)] = annotation.substr(eq + 1);
  auto& fields = *pod->mutable_pod_spec()->mutable_fields();
  google::protobuf::Value container;
  auto& cf = *container.mutable_struct_value()->mutable_fields();
  cf["name"].set_string_value("main");
  cf["image"].set_string_value(ct.image());
  for (const std::string& arg : ct.command()) cf["command"].mutable_list_value()->add_values()->set_string_value(arg);
  *fields["containers"].mutable_list_value()->add_values() = container;
  (*tmpl->mutable_config())["primary_container_name"] = "main";
}

wf::CreateRunRequest MakeRun(const Common& c, const std::string& run_name, const std::string& shell) {
  wf::CreateRunRequest req;
  auto* id = req.mutable_run_id();
  id->set_org(c.scope.org);
  id->set_project(c.scope.project);
  id->set_domain(c.scope.domain);
  id->set_name(run_name);
  FillTemplate(c, "loadgen.noop", shell, req.mutable_task_spec());
  return req;
}

absl::Status CreateRun(const Common& c, const std::string& name, const std::string& shell) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, c.rpc_timeout);
  wf::CreateRunResponse resp;
  return FromGrpc(c.runs->CreateRun(&ctx, MakeRun(c, name, shell), &resp), "CreateRun " + name);
}

// Samples the executor's VmRSS (KiB) each time `done` crosses a multiple of rss_every.
class RssSampler {
 public:
  RssSampler(int pid, int every) : pid_(pid), every_(every) { Sample(0); }
  void OnCompleted(long done) {
    if (pid_ > 0 && done % every_ == 0) Sample(done);
  }
  void Final(long done) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ > 0 && (samples_.empty() || samples_.back().first != done)) {
      samples_.emplace_back(done, ReadProcStatusKb(pid_));
    }
  }
  nlohmann::json ToJson() const {
    nlohmann::json j = nlohmann::json::array();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [n, kb] : samples_) j.push_back({{"completed", n}, {"rss_kib", kb}});
    return j;
  }
  std::string ToText() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ <= 0) return "";
    std::string out = "executor VmRSS (MiB) at completed actions:";
    for (const auto& [n, kb] : samples_) out += fmt::format(" {}:{:.1f}", n, kb / 1024.0);
    return out + "\n";
  }

 private:
  void Sample(long done) {
    if (pid_ <= 0) return;
    const long kb = ReadProcStatusKb(pid_);
    std::lock_guard<std::mutex> lock(mu_);
    samples_.emplace_back(done, kb);
  }
  int pid_;
  int every_;
  mutable std::mutex mu_;
  std::vector<std::pair<long, long>> samples_;
};

nlohmann::json LatencyJson(std::vector<double> ms) {
  double sum = 0;
  for (double v : ms) sum += v;
  nlohmann::json j;
  j["count"] = ms.size();
  j["mean_ms"] = ms.empty() ? 0 : sum / ms.size();
  j["p50_ms"] = Percentile(&ms, 50);
  j["p90_ms"] = Percentile(&ms, 90);
  j["p99_ms"] = Percentile(&ms, 99);
  j["max_ms"] = ms.empty() ? 0 : ms.back();
  return j;
}

std::string LatencyText(const nlohmann::json& j) {
  return fmt::format("n={} mean {:.1f} ms  p50 {:.1f} ms  p90 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms",
                     j["count"].get<size_t>(), j["mean_ms"].get<double>(), j["p50_ms"].get<double>(),
                     j["p90_ms"].get<double>(), j["p99_ms"].get<double>(), j["max_ms"].get<double>());
}

// Tracks named actions from "enqueued" to SUCCEEDED (or a failure phase), fed by a watch stream.
class Tracker {
 public:
  explicit Tracker(RssSampler* rss) : rss_(rss) {}
  void Start(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_[name] = Clock::now();
  }
  void Forget(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.erase(name);
  }
  void Observe(const std::string& name, flyteidl2::common::ActionPhase phase) {
    if (phase != ACTION_PHASE_SUCCEEDED && !IsFailure(phase)) return;
    long done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(name);
      if (it == pending_.end()) return;
      const auto now = Clock::now();
      if (phase == ACTION_PHASE_SUCCEEDED) {
        latencies_ms_.push_back(Seconds(now - it->second) * 1000.0);
      } else {
        ++failed_;
      }
      last_done_ = now;
      pending_.erase(it);
      done = ++completed_;
    }
    cv_.notify_all();
    if (rss_ != nullptr) rss_->OnCompleted(done);
  }
  // Waits until `name` is no longer pending (true) or the deadline passes.
  bool WaitFor(const std::string& name, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return pending_.count(name) == 0 || ended_; }) &&
           pending_.count(name) == 0;
  }
  bool WaitAll(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return pending_.empty() || ended_; }) && pending_.empty();
  }
  void SetSentinel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sentinel_ = true;
    }
    cv_.notify_all();
  }
  // The watch stream is gone (e.g. the services were stopped): waiters give up at once.
  void SetEnded() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
    }
    cv_.notify_all();
  }
  bool WaitSentinel(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return sentinel_; });
  }
  std::vector<double> TakeLatencies() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(latencies_ms_, {});
  }
  long completed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_;
  }
  long failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }
  Clock::time_point last_done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_done_;
  }

 private:
  RssSampler* rss_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Clock::time_point> pending_;
  std::vector<double> latencies_ms_;
  long completed_ = 0;
  long failed_ = 0;
  bool sentinel_ = false;
  bool ended_ = false;
  Clock::time_point last_done_{};
};

// One WatchRuns (project scope) stream on its own thread, feeding a Tracker by run name.
class RunsWatch {
 public:
  RunsWatch(const Common& c, Tracker* tracker) {
    wf::WatchRunsRequest req;
    auto* p = req.mutable_project_id();
    p->set_organization(c.scope.org);
    p->set_name(c.scope.project);
    p->set_domain(c.scope.domain);
    reader_ = c.runs->WatchRuns(&ctx_, req);
    thread_ = std::thread([this, tracker] {
      wf::WatchRunsResponse resp;
      while (reader_->Read(&resp)) {
        for (const auto& run : resp.runs()) {
          tracker->Observe(run.action().id().run().name(), run.action().status().phase());
        }
      }
      status_ = reader_->Finish();
      tracker->SetEnded();
    });
  }
  ~RunsWatch() {
    ctx_.TryCancel();
    thread_.join();
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<wf::WatchRunsResponse>> reader_;
  grpc::Status status_;
  std::thread thread_;
};

// One StateService.Watch(parent) stream on its own thread, feeding a Tracker by child action name.
class StateWatch {
 public:
  StateWatch(const Common& c, const flyteidl2::common::ActionIdentifier& parent, Tracker* tracker) {
    wf::WatchRequest req;
    *req.mutable_parent_action_id() = parent;
    reader_ = c.state->Watch(&ctx_, req);
    thread_ = std::thread([this, tracker] {
      wf::WatchResponse resp;
      while (reader_->Read(&resp)) {
        if (resp.has_control_message()) {
          if (resp.control_message().sentinel()) tracker->SetSentinel();
          continue;
        }
        tracker->Observe(resp.action_update().action_id().name(), resp.action_update().phase());
      }
      status_ = reader_->Finish();
      tracker->SetSentinel();  // unblock a waiter if the stream failed before its sentinel
      tracker->SetEnded();
    });
  }
  ~StateWatch() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::string error() const { return status_.ok() ? "" : status_.error_message(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<wf::WatchResponse>> reader_;
  grpc::Status status_;
  std::thread thread_;
};

// Runs `n` calls of `fn(i)` on `concurrency` threads; returns the first error.
absl::Status Parallel(int n, int concurrency, const std::function<absl::Status(int)>& fn) {
  std::atomic<int> next{0};
  std::mutex mu;
  absl::Status first;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, concurrency); ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        absl::Status s = fn(i);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = s;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return first;
}

// ---------------------------------------------------------------------------------------- parent + children

struct Parent {
  flyteidl2::common::RunIdentifier run;
  flyteidl2::common::ActionIdentifier action;  // a0
  std::string output_base;
};

absl::StatusOr<Parent> StartParent(const Common& c, const std::string& run_name) {
  wf::CreateRunRequest run = MakeRun(c, run_name, "sleep 600");
  if (!c.parent_annotation.empty()) UsePodTemplate(c.parent_annotation, run.mutable_task_spec());
  {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, c.rpc_timeout);
    wf::CreateRunResponse resp;
    if (auto s = FromGrpc(c.runs->CreateRun(&ctx, run, &resp), "CreateRun " + run_name); !s.ok()) return s;
  }
  Parent p;
  p.run.set_org(c.scope.org);
  p.run.set_project(c.scope.project);
  p.run.set_domain(c.scope.domain);
  p.run.set_name(run_name);
  *p.action.mutable_run() = p.run;
  p.action.set_name("a0");
  p.output_base = c.storage_prefix + c.scope.project + "/" + c.scope.domain + "/" + run_name + "/";
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, c.rpc_timeout);
    wf::GetRunDetailsRequest req;
    *req.mutable_run_id() = p.run;
    wf::GetRunDetailsResponse resp;
    auto s = c.runs->GetRunDetails(&ctx, req, &resp);
    if (s.ok()) {
      const auto phase = resp.details().action().status().phase();
      if (phase == flyteidl2::common::ACTION_PHASE_RUNNING) return p;
      if (phase == ACTION_PHASE_SUCCEEDED || IsFailure(phase)) {
        return absl::FailedPreconditionError("parent run ended before the benchmark started");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("parent run not RUNNING after 60 s");
}

void AbortParent(const Common& c, const Parent& p) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, c.rpc_timeout);
  wf::AbortRunRequest req;
  *req.mutable_run_id() = p.run;
  req.set_reason("loadgen done");
  wf::AbortRunResponse resp;
  (void)c.runs->AbortRun(&ctx, req, &resp);
}

absl::Status EnqueueChild(const Common& c, const Parent& p, const std::string& name) {
  wf::EnqueueActionRequest req;
  *req.mutable_action_id()->mutable_run() = p.run;
  req.mutable_action_id()->set_name(name);
  req.set_parent_action_name("a0");
  req.set_group("loadgen");
  req.set_input_uri(p.output_base + name + "/inputs.pb");
  req.set_run_output_base(p.output_base);
  auto* task = req.mutable_task();
  auto* id = task->mutable_id();
  id->set_org(c.scope.org);
  id->set_project(c.scope.project);
  id->set_domain(c.scope.domain);
  id->set_name("loadgen.child");
  id->set_version("v1");
  FillTemplate(c, "loadgen.child", c.command, task->mutable_spec());
  grpc::ClientContext ctx;
  SetDeadline(&ctx, c.rpc_timeout);
  wf::EnqueueActionResponse resp;
  return FromGrpc(c.queue->EnqueueAction(&ctx, req, &resp), "EnqueueAction " + name);
}

void Print(const Common& c, const std::string& text) {
  if (!c.quiet) std::cout << text << std::flush;
}

}  // namespace

double Percentile(std::vector<double>* values, double p) {
  if (values->empty()) return 0;
  std::sort(values->begin(), values->end());
  const double rank = std::ceil(p / 100.0 * values->size());
  const size_t idx = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values->size()))) - 1;
  return (*values)[idx];
}

absl::StatusOr<nlohmann::json> RunStackLatency(const Flags& f) {
  auto c = MakeCommon(f, {"runs", "rate", "burst", "concurrency"});
  if (!c.ok()) return c.status();
  const int runs = static_cast<int>(f.Num("runs", 200).value_or(200));
  const double rate = f.Num("rate", 10).value_or(10);
  const int burst = static_cast<int>(f.Num("burst", 1000).value_or(1000));
  const int conc = static_cast<int>(f.Num("concurrency", 16).value_or(16));
  const std::string prefix = RunNamePrefix();
  RssSampler rss(c->executor_pid, c->rss_every);
  Tracker tracker(&rss);
  RunsWatch watch(*c, &tracker);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the stream open before the first run

  nlohmann::json out;
  out["mode"] = "stack-latency";
  out["target"] = c->target;
  out["command"] = c->command;
  // Phase 1: paced runs, latency CreateRun -> SUCCEEDED seen on WatchRuns.
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  auto next = Clock::now();
  for (int i = 0; i < runs; ++i) {
    std::this_thread::sleep_until(next);
    next += gap;
    const std::string name = fmt::format("{}l{}", prefix, i);
    tracker.Start(name);
    if (auto s = CreateRun(*c, name, c->command); !s.ok()) return s;
  }
  if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
    return absl::DeadlineExceededError(fmt::format("{} paced runs not done", tracker.pending()));
  }
  out["latency"] = LatencyJson(tracker.TakeLatencies());
  out["latency"]["rate_per_s"] = rate;
  Print(*c, fmt::format("stack-latency: {} runs at {}/s, CreateRun -> SUCCEEDED (WatchRuns): {}\n", runs, rate,
                        LatencyText(out["latency"])));
  // Phase 2: burst, time until all SUCCEEDED.
  const auto t0 = Clock::now();
  auto s = Parallel(burst, conc, [&](int i) {
    const std::string name = fmt::format("{}b{}", prefix, i);
    tracker.Start(name);
    auto st = CreateRun(*c, name, c->command);
    if (!st.ok()) tracker.Forget(name);
    return st;
  });
  const double create_s = Seconds(Clock::now() - t0);
  if (!s.ok()) return s;
  if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
    return absl::DeadlineExceededError(fmt::format("{} burst runs not done", tracker.pending()));
  }
  const double total_s = Seconds(tracker.last_done() - t0);
  out["burst"] = {{"runs", burst},
                  {"concurrency", conc},
                  {"create_seconds", create_s},
                  {"seconds_to_all_succeeded", total_s},
                  {"actions_per_second", burst / total_s},
                  {"failed", tracker.failed()},
                  {"latency", LatencyJson(tracker.TakeLatencies())}};
  rss.Final(tracker.completed());
  out["executor_rss"] = rss.ToJson();
  Print(*c, fmt::format("burst: {} runs created in {:.2f} s, all SUCCEEDED after {:.2f} s -> {:.1f} actions/s "
                        "(failed {})\n",
                        burst, create_s, total_s, burst / total_s, tracker.failed()) +
                rss.ToText());
  return out;
}

// The frame of a chain or fan-out benchmark: a parent run held RUNNING, a StateService.Watch on its children
// (past the sentinel, so no child's update is missed) feeding a Tracker, and the parent aborted once `body` is
// done, whatever it returned. The sampler is made after the parent starts, so its first sample excludes it.
using ParentBody =
    std::function<absl::Status(const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss)>;

absl::Status WithWatchedParent(const Common& c, const std::string& run_name, const ParentBody& body) {
  auto parent = StartParent(c, run_name);
  if (!parent.ok()) return parent.status();
  RssSampler rss(c.executor_pid, c.rss_every);
  Tracker tracker(&rss);
  absl::Status result;
  {
    StateWatch watch(c, parent->action, &tracker);
    if (!tracker.WaitSentinel(Clock::now() + std::chrono::seconds(10))) {
      result = absl::DeadlineExceededError("no sentinel on StateService.Watch");
    } else {
      result = body(*parent, watch, tracker, rss);
    }
  }
  AbortParent(c, *parent);
  return result;
}

absl::StatusOr<nlohmann::json> RunChain(const Flags& f) {
  auto c = MakeCommon(f, {"steps"});
  if (!c.ok()) return c.status();
  const int steps = static_cast<int>(f.Num("steps", 500).value_or(500));
  nlohmann::json out;
  absl::Status result = WithWatchedParent(
      *c, RunNamePrefix() + "chain",
      [&](const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss) -> absl::Status {
        const auto t0 = Clock::now();
        for (int i = 0; i < steps; ++i) {
          const std::string name = fmt::format("c{}", i);
          tracker.Start(name);
          if (absl::Status s = EnqueueChild(*c, parent, name); !s.ok()) return s;
          if (!tracker.WaitFor(name, Clock::now() + c->wait_timeout)) {
            return absl::DeadlineExceededError("chain step " + name + " not done: " + watch.error());
          }
        }
        const double total = Seconds(Clock::now() - t0);
        out["mode"] = "chain";
        out["target"] = c->target;
        out["command"] = c->command;
        out["steps"] = steps;
        out["total_seconds"] = total;
        out["seconds_per_step"] = total / steps;
        out["failed"] = tracker.failed();
        out["step_latency"] = LatencyJson(tracker.TakeLatencies());
        rss.Final(tracker.completed());
        out["executor_rss"] = rss.ToJson();
        Print(*c, fmt::format("chain: {} sequential children in {:.2f} s -> {:.1f} ms per step (failed {}); "
                              "step: {}\n",
                              steps, total, total / steps * 1000, tracker.failed(),
                              LatencyText(out["step_latency"])) +
                      rss.ToText());
        return absl::OkStatus();
      });
  if (!result.ok()) return result;
  return out;
}

absl::StatusOr<nlohmann::json> RunFanout(const Flags& f) {
  auto c = MakeCommon(f, {"children", "concurrency"});
  if (!c.ok()) return c.status();
  const int children = static_cast<int>(f.Num("children", 6000).value_or(6000));
  const int conc = static_cast<int>(f.Num("concurrency", 8).value_or(8));
  nlohmann::json out;
  absl::Status result = WithWatchedParent(
      *c, RunNamePrefix() + "fan",
      [&](const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss) -> absl::Status {
        const auto t0 = Clock::now();
        absl::Status enqueued = Parallel(children, conc, [&](int i) {
          const std::string name = fmt::format("f{}", i);
          tracker.Start(name);
          auto st = EnqueueChild(*c, parent, name);
          if (!st.ok()) tracker.Forget(name);
          return st;
        });
        if (!enqueued.ok()) return enqueued;
        const double enqueue_s = Seconds(Clock::now() - t0);
        if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
          return absl::DeadlineExceededError(fmt::format("{} of {} children not done: {}", tracker.pending(),
                                                         children, watch.error()));
        }
        const double total = Seconds(tracker.last_done() - t0);
        out["mode"] = "fanout";
        out["target"] = c->target;
        out["command"] = c->command;
        out["children"] = children;
        out["concurrency"] = conc;
        out["enqueue_seconds"] = enqueue_s;
        out["seconds_to_all_succeeded"] = total;
        out["leaves_per_second"] = children / total;
        out["failed"] = tracker.failed();
        out["child_latency"] = LatencyJson(tracker.TakeLatencies());
        rss.Final(tracker.completed());
        out["executor_rss"] = rss.ToJson();
        Print(*c, fmt::format("fanout: {} children enqueued in {:.2f} s, all done after {:.2f} s -> {:.1f} "
                              "leaves/s (failed {}); enqueue->SUCCEEDED: {}\n",
                              children, enqueue_s, total, children / total, tracker.failed(),
                              LatencyText(out["child_latency"])) +
                      rss.ToText());
        return absl::OkStatus();
      });
  if (!result.ok()) return result;
  return out;
}

}  // namespace flyte::loadgen
