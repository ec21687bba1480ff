#include "clients/grpc_queue_client.h"

#include <algorithm>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "flyte/rpc/status.h"

namespace flyte::runs {
namespace {
namespace wf = flyteidl2::workflow;

void FillRunId(const RunKey& k, flyteidl2::common::RunIdentifier* id) {
  id->set_org(k.org);
  id->set_project(k.project);
  id->set_domain(k.domain);
  id->set_name(k.name);
}

void FillActionId(const ActionKey& k, flyteidl2::common::ActionIdentifier* id) {
  FillRunId(k.run, id->mutable_run());
  id->set_name(k.name);
}

}  // namespace

std::string QueueGrpcTarget(const std::string& endpoint) {
  if (endpoint.find("://") != std::string::npos || endpoint.rfind("unix:", 0) == 0) return endpoint;
  return "dns:///" + endpoint;
}

std::shared_ptr<grpc::Channel> MakeQueueChannel(const std::string& endpoint, std::chrono::milliseconds max_reconnect) {
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to two minutes; a queue-service restart must be noticed within the
  // dispatcher's own retry bound.
  const int max_ms = static_cast<int>(std::max<int64_t>(100, max_reconnect.count()));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  return grpc::CreateCustomChannel(QueueGrpcTarget(endpoint), grpc::InsecureChannelCredentials(), args);
}

wf::EnqueueActionRequest BuildEnqueueRequest(const Action& a) {
  wf::EnqueueActionRequest req;
  FillActionId(a.key, req.mutable_action_id());
  if (a.parent) req.set_parent_action_name(*a.parent);
  if (!a.run_spec.empty()) (void)req.mutable_run_spec()->ParseFromString(a.run_spec);
  if (!req.run_spec().has_run_start_time()) {
    const int64_t us = common::ToUnixMicros(a.created_at);
    req.mutable_run_spec()->mutable_run_start_time()->set_seconds(us / 1'000'000);
    req.mutable_run_spec()->mutable_run_start_time()->set_nanos(static_cast<int32_t>(us % 1'000'000) * 1000);
  }
  req.set_input_uri(a.input_uri);
  req.set_run_output_base(a.run_output_base);
  req.set_group(a.group);
  wf::TaskAction* task = req.mutable_task();
  task->mutable_id()->set_org(a.task_org);
  task->mutable_id()->set_project(a.task_project);
  task->mutable_id()->set_domain(a.task_domain);
  task->mutable_id()->set_name(a.task_name);
  task->mutable_id()->set_version(a.task_version);
  if (!a.task_spec.empty()) (void)task->mutable_spec()->ParseFromString(a.task_spec);
  return req;
}

GrpcQueueClient::GrpcQueueClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds rpc_timeout)
    : stub_(wf::QueueService::NewStub(std::move(channel))), rpc_timeout_(rpc_timeout) {}

absl::Status GrpcQueueClient::Send(const wf::EnqueueActionRequest& req) {
  wf::EnqueueActionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->EnqueueAction(&ctx, req, &resp));
}

absl::Status GrpcQueueClient::EnqueueAction(const Action& action) { return Send(BuildEnqueueRequest(action)); }

absl::Status GrpcQueueClient::EnqueueRequest(const std::string& serialized_request) {
  wf::EnqueueActionRequest req;
  if (!req.ParseFromString(serialized_request)) {
    return absl::InvalidArgumentError("stored enqueue request is not an EnqueueActionRequest");
  }
  return Send(req);
}

absl::Status GrpcQueueClient::AbortRun(const RunKey& run, const std::string& reason) {
  wf::AbortQueuedRunRequest req;
  FillRunId(run, req.mutable_run_id());
  req.set_reason(reason);
  wf::AbortQueuedRunResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->AbortQueuedRun(&ctx, req, &resp));
}

absl::Status GrpcQueueClient::AbortAction(const ActionKey& action, const std::string& reason) {
  wf::AbortQueuedActionRequest req;
  FillActionId(action, req.mutable_action_id());
  req.set_reason(reason);
  wf::AbortQueuedActionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->AbortQueuedAction(&ctx, req, &resp));
}

}  // namespace flyte::runs
