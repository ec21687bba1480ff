#include "api/queue_api.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/converters.h"
#include "flyte/internal/queue/v1/enqueue_batch_service.pb.h"
#include "flyte/internal/queue/v1/lease_service.pb.h"
#include "flyte/rpc/in_band_status.h"
#include "flyteidl2/workflow/queue_service.pb.h"

namespace flyte::queue::api {

namespace wf = flyteidl2::workflow;
namespace pb = flyte::internal::queue::v1;

void RegisterQueueApi(rpc::Router& router, QueueUseCases& queue) {
  QueueUseCases* q = &queue;

  router.Unary<wf::EnqueueActionRequest, wf::EnqueueActionResponse>(
      kQueueService, "EnqueueAction",
      [q](const rpc::CallContext&, const wf::EnqueueActionRequest& req, wf::EnqueueActionResponse*) {
        return q->Enqueue(ToNewEntry(req));
      });
  router.Unary<pb::EnqueueActionsRequest, pb::EnqueueActionsResponse>(
      kEnqueueBatchService, "EnqueueActions",
      [q](const rpc::CallContext&, const pb::EnqueueActionsRequest& req,
          pb::EnqueueActionsResponse* resp) -> absl::Status {
        if (req.actions_size() == 0) return absl::InvalidArgumentError("actions: at least one action is required");
        std::vector<NewEntry> entries;
        entries.reserve(req.actions_size());
        for (const wf::EnqueueActionRequest& a : req.actions()) entries.push_back(ToNewEntry(a));
        absl::StatusOr<std::vector<absl::Status>> outcomes = q->EnqueueMany(std::move(entries));
        if (!outcomes.ok()) return outcomes.status();
        for (const absl::Status& s : *outcomes) *resp->add_statuses() = rpc::ToRpcStatus(s);
        return absl::OkStatus();
      });
  router.Unary<wf::AbortQueuedRunRequest, wf::AbortQueuedRunResponse>(
      kQueueService, "AbortQueuedRun",
      [q](const rpc::CallContext&, const wf::AbortQueuedRunRequest& req, wf::AbortQueuedRunResponse*) {
        return q->AbortRun(ToRunKey(req.run_id()), req.reason());
      });
  router.Unary<wf::AbortQueuedActionRequest, wf::AbortQueuedActionResponse>(
      kQueueService, "AbortQueuedAction",
      [q](const rpc::CallContext&, const wf::AbortQueuedActionRequest& req, wf::AbortQueuedActionResponse*) {
        return q->AbortAction(ToActionKey(req.action_id()), req.reason());
      });

  router.Unary<pb::AcquireRequest, pb::AcquireResponse>(
      kLeaseService, "Acquire",
      [q](const rpc::CallContext& ctx, const pb::AcquireRequest& req, pb::AcquireResponse* resp) -> absl::Status {
        // Leave the client time to receive an empty answer before its own deadline fires.
        auto deadline = ctx.deadline;
        if (deadline != std::chrono::steady_clock::time_point::max()) deadline -= std::chrono::milliseconds(200);
        // A client that cancelled, died or ran out of time must not be handed a lease it will never see: wake
        // the parked call when the transport cancels it, and let Acquire check right before claiming.
        rpc::CallCancellation::Registration wake = ctx.cancellation->OnCancel([q] { q->WakeWaiters(); });
        absl::StatusOr<std::vector<QueueEntry>> got = q->Acquire(
            req.executor_id(), static_cast<int>(req.max_leases()), std::chrono::milliseconds(req.wait_ms()),
            deadline, [&ctx] { return ctx.cancelled(); });
        if (!got.ok()) return got.status();
        for (const QueueEntry& e : *got) {
          absl::StatusOr<pb::Lease> lease = ToLease(e);
          if (!lease.ok()) return lease.status();
          *resp->add_leases() = std::move(*lease);
        }
        return absl::OkStatus();
      });
  router.Unary<pb::HeartbeatRequest, pb::HeartbeatResponse>(
      kLeaseService, "Heartbeat",
      [q](const rpc::CallContext&, const pb::HeartbeatRequest& req, pb::HeartbeatResponse* resp) -> absl::Status {
        std::vector<std::string> ids(req.lease_ids().begin(), req.lease_ids().end());
        absl::StatusOr<HeartbeatResult> hb = q->Heartbeat(req.executor_id(), ids);
        if (!hb.ok()) return hb.status();
        for (const QueueEntry& e : hb->renewed) {
          absl::StatusOr<pb::Lease> lease = ToLease(e, /*with_action=*/false);
          if (!lease.ok()) return lease.status();
          *resp->add_renewed() = std::move(*lease);
        }
        for (const std::string& id : hb->lost_lease_ids) resp->add_lost_lease_ids(id);
        return absl::OkStatus();
      });
  router.Unary<pb::CompleteRequest, pb::CompleteResponse>(
      kLeaseService, "Complete",
      [q](const rpc::CallContext&, const pb::CompleteRequest& req, pb::CompleteResponse*) {
        return q->Complete(req.executor_id(), req.lease_id());
      });
  router.Unary<pb::CompleteBatchRequest, pb::CompleteBatchResponse>(
      kLeaseService, "CompleteBatch",
      [q](const rpc::CallContext&, const pb::CompleteBatchRequest& req,
          pb::CompleteBatchResponse* resp) -> absl::Status {
        if (req.completions_size() == 0) {
          return absl::InvalidArgumentError("completions: at least one completion is required");
        }
        std::vector<std::string> ids;
        ids.reserve(req.completions_size());
        for (const pb::Completion& c : req.completions()) ids.push_back(c.lease_id());
        absl::StatusOr<std::vector<absl::Status>> outcomes = q->CompleteMany(req.executor_id(), ids);
        if (!outcomes.ok()) return outcomes.status();
        for (const absl::Status& s : *outcomes) *resp->add_statuses() = rpc::ToRpcStatus(s);
        return absl::OkStatus();
      });
  router.Unary<pb::ReleaseRequest, pb::ReleaseResponse>(
      kLeaseService, "Release", [q](const rpc::CallContext&, const pb::ReleaseRequest& req, pb::ReleaseResponse*) {
        return q->Release(req.executor_id(), req.lease_id());
      });
  router.ServerStreaming<pb::WatchAbortsRequest, pb::WatchAbortsResponse>(
      kLeaseService, "WatchAborts",
      [q](const rpc::CallContext&, const pb::WatchAbortsRequest& req,
          rpc::ServerStream<pb::WatchAbortsResponse> stream) {
        absl::StatusOr<std::unique_ptr<QueueUseCases::AbortSubscription>> sub = q->WatchAborts(
            req.executor_id(),
            [stream](const std::vector<QueueEntry>& aborted) { stream.Send(ToWatchAbortsResponse(aborted)); });
        if (!sub.ok()) {
          stream.Finish(sub.status());
          return;
        }
        // The subscription lives as long as the stream (until the executor goes away or the server shuts down);
        // dropping it then also drops its callback's hold on the stream.
        auto held = std::make_shared<std::unique_ptr<QueueUseCases::AbortSubscription>>(std::move(*sub));
        stream.OnDone([held] { held->reset(); });
      });
}

}  // namespace flyte::queue::api
