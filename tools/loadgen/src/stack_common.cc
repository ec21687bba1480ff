// The whole-stack modes' shared helpers (stack_common.h): flags to Common, runs and tasks, the parent run and its
// children, latency summaries.
#include "stack_common.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "stack.h"

namespace flyte::loadgen {

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

}  // namespace flyte::loadgen
