#pragma once
// What the whole-stack modes (stack.cc) share: their common flags and the gRPC stubs made from them (Common), the
// no-op runs and tasks they create, a parent run held RUNNING with children enqueued under it, and latency and
// report helpers.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flags.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"
#include "flyteidl2/workflow/state_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "scenarios.h"

namespace flyte::loadgen {

namespace wf = flyteidl2::workflow;
using Clock = std::chrono::steady_clock;
using flyteidl2::common::ACTION_PHASE_SUCCEEDED;

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

inline bool IsFailure(flyteidl2::common::ActionPhase p) {
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

absl::StatusOr<Common> MakeCommon(const Flags& f, const std::vector<std::string>& extra_known);
void SetDeadline(grpc::ClientContext* ctx, std::chrono::nanoseconds d);
absl::Status FromGrpc(const grpc::Status& s, const std::string& what);
void FillTemplate(const Common& c, const std::string& name, const std::string& shell,
                  flyteidl2::task::TaskSpec* spec);
// The same task with its container in a Pod template annotated `key=value`.
void UsePodTemplate(const std::string& annotation, flyteidl2::task::TaskSpec* spec);
wf::CreateRunRequest MakeRun(const Common& c, const std::string& run_name, const std::string& shell);
absl::Status CreateRun(const Common& c, const std::string& name, const std::string& shell);
nlohmann::json LatencyJson(std::vector<double> ms);
std::string LatencyText(const nlohmann::json& j);
// Runs `n` calls of `fn(i)` on `concurrency` threads; returns the first error.
absl::Status Parallel(int n, int concurrency, const std::function<absl::Status(int)>& fn);
void Print(const Common& c, const std::string& text);

// ---------------------------------------------------------------------------------------- parent + children

struct Parent {
  flyteidl2::common::RunIdentifier run;
  flyteidl2::common::ActionIdentifier action;  // a0
  std::string output_base;
};

absl::StatusOr<Parent> StartParent(const Common& c, const std::string& run_name);
void AbortParent(const Common& c, const Parent& p);
absl::Status EnqueueChild(const Common& c, const Parent& p, const std::string& name);

}  // namespace flyte::loadgen
