#include "clients/grpc_queue_client.h"

#include <algorithm>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "flyte/rpc/in_band_status.h"
#include "flyte/rpc/status.h"

namespace flyte::runs {
namespace {
namespace wf = flyteidl2::workflow;
namespace qv1 = flyte::internal::queue::v1;

absl::Status NotAnEnqueueRequest() {
  return absl::InvalidArgumentError("stored enqueue request is not an EnqueueActionRequest");
}

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
    : stub_(wf::QueueService::NewStub(channel)),
      batch_stub_(qv1::EnqueueBatchService::NewStub(channel)),
      rpc_timeout_(rpc_timeout) {}

template <class Stub, class Req, class Resp>
grpc::Status GrpcQueueClient::Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                                   const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return (stub.*method)(&ctx, req, resp);
}

absl::Status GrpcQueueClient::EnqueueAction(const Action& action) {
  wf::EnqueueActionResponse resp;
  return rpc::FromGrpcStatus(Call(*stub_, &wf::QueueService::Stub::EnqueueAction, BuildEnqueueRequest(action), &resp));
}

absl::Status GrpcQueueClient::EnqueueRequest(const std::string& serialized_request) {
  wf::EnqueueActionRequest req;
  if (!req.ParseFromString(serialized_request)) return NotAnEnqueueRequest();
  wf::EnqueueActionResponse resp;
  return rpc::FromGrpcStatus(Call(*stub_, &wf::QueueService::Stub::EnqueueAction, req, &resp));
}

absl::StatusOr<std::vector<absl::Status>> GrpcQueueClient::EnqueueBatch(const std::vector<EnqueueItem>& items) {
  if (items.empty()) return std::vector<absl::Status>{};
  if (!batches_served_.load()) return QueueClient::EnqueueBatch(items);
  qv1::EnqueueActionsRequest req;
  // A stored request that does not parse is answered here; the others go in one call.
  std::vector<absl::Status> out(items.size());
  std::vector<size_t> sent;
  for (size_t i = 0; i < items.size(); ++i) {
    const EnqueueItem& item = items[i];
    if (item.request != nullptr && !item.request->empty()) {
      if (!req.add_actions()->ParseFromString(*item.request)) {
        req.mutable_actions()->RemoveLast();
        out[i] = NotAnEnqueueRequest();
        continue;
      }
    } else {
      *req.add_actions() = BuildEnqueueRequest(*item.action);
    }
    sent.push_back(i);
  }
  if (sent.empty()) return out;
  qv1::EnqueueActionsResponse resp;
  grpc::Status s = Call(*batch_stub_, &qv1::EnqueueBatchService::Stub::EnqueueActions, req, &resp);
  bool one_by_one = false;
  absl::StatusOr<std::vector<absl::Status>> outcomes =
      rpc::BatchAnswer(s, resp.statuses(), sent.size(), "queue-service", "enqueues", batches_served_, [&] {
        one_by_one = true;
        return QueueClient::EnqueueBatch(items);
      });
  if (one_by_one || !outcomes.ok()) return outcomes;  // one_by_one answered every item
  for (size_t k = 0; k < sent.size(); ++k) out[sent[k]] = (*outcomes)[k];
  return out;
}

absl::Status GrpcQueueClient::AbortRun(const RunKey& run, const std::string& reason) {
  wf::AbortQueuedRunRequest req;
  FillRunId(run, req.mutable_run_id());
  req.set_reason(reason);
  wf::AbortQueuedRunResponse resp;
  return rpc::FromGrpcStatus(Call(*stub_, &wf::QueueService::Stub::AbortQueuedRun, req, &resp));
}

absl::Status GrpcQueueClient::AbortAction(const ActionKey& action, const std::string& reason) {
  wf::AbortQueuedActionRequest req;
  FillActionId(action, req.mutable_action_id());
  req.set_reason(reason);
  wf::AbortQueuedActionResponse resp;
  return rpc::FromGrpcStatus(Call(*stub_, &wf::QueueService::Stub::AbortQueuedAction, req, &resp));
}

}  // namespace flyte::runs
