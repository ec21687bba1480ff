#include "clients/grpc_lease_client.h"

#include <grpcpp/client_context.h>

#include "clients/action_decoding.h"
#include "flyte/rpc/in_band_status.h"
#include "flyte/rpc/status.h"

namespace flyte::executor {
namespace {
namespace qv1 = flyte::internal::queue::v1;

common::TimePoint FromUnixMs(int64_t ms) { return common::TimePoint(std::chrono::milliseconds(ms)); }

void SetDeadline(grpc::ClientContext& ctx, std::chrono::milliseconds d) {
  ctx.set_deadline(std::chrono::system_clock::now() + d);
}

}  // namespace

GrpcLeaseClient::GrpcLeaseClient(std::shared_ptr<grpc::Channel> channel, std::string executor_id,
                                 std::chrono::milliseconds rpc_timeout)
    : stub_(qv1::LeaseService::NewStub(std::move(channel))),
      executor_id_(std::move(executor_id)),
      rpc_timeout_(rpc_timeout) {}

absl::StatusOr<std::vector<Lease>> GrpcLeaseClient::Acquire(uint32_t max, std::chrono::milliseconds wait) {
  qv1::AcquireRequest req;
  req.set_executor_id(executor_id_);
  req.set_max_leases(max);
  req.set_wait_ms(static_cast<uint32_t>(wait.count()));
  qv1::AcquireResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, wait + rpc_timeout_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return absl::CancelledError("acquire cancelled");
    acquiring_ = &ctx;
  }
  grpc::Status s = stub_->Acquire(&ctx, req, &resp);
  {
    std::lock_guard<std::mutex> lock(mu_);
    acquiring_ = nullptr;
  }
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  std::vector<Lease> out;
  out.reserve(resp.leases_size());
  for (const qv1::Lease& l : resp.leases()) {
    Lease lease;
    lease.id = l.lease_id();
    lease.expires_at = FromUnixMs(l.expires_at_unix_ms());
    lease.delivery = l.delivery() == 0 ? 1 : l.delivery();
    lease.enqueued_at = FromUnixMs(l.enqueued_at_unix_ms());
    lease.abort_requested = l.abort_requested();
    lease.abort_reason = l.abort_reason();
    absl::StatusOr<ActionToRun> action = DecodeEnqueuedAction(l.action());
    if (action.ok()) {
      lease.action = std::move(*action);
    } else {
      lease.decode_error = std::string(action.status().message());
    }
    out.push_back(std::move(lease));
  }
  return out;
}

void GrpcLeaseClient::CancelAcquire() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (acquiring_ != nullptr) acquiring_->TryCancel();
}

absl::Status GrpcLeaseClient::WatchAborts(const std::function<void()>& on_live,
                                          const std::function<void(const AbortPush&)>& on_abort) {
  qv1::WatchAbortsRequest req;
  req.set_executor_id(executor_id_);
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (watch_cancelled_) return absl::CancelledError("abort stream cancelled");
    watching_ = &ctx;
  }
  std::unique_ptr<grpc::ClientReader<qv1::WatchAbortsResponse>> reader = stub_->WatchAborts(&ctx, req);
  qv1::WatchAbortsResponse msg;
  bool live = false;
  while (reader->Read(&msg)) {
    if (!live) {
      live = true;
      on_live();
    }
    for (const qv1::AbortNotice& n : msg.aborts()) on_abort(AbortPush{n.lease_id(), n.reason()});
  }
  grpc::Status s = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    watching_ = nullptr;
  }
  if (s.ok()) return absl::UnavailableError("queue-service ended the abort stream");
  return rpc::FromGrpcStatus(s);
}

void GrpcLeaseClient::CancelWatchAborts() {
  std::lock_guard<std::mutex> lock(mu_);
  watch_cancelled_ = true;
  if (watching_ != nullptr) watching_->TryCancel();
}

absl::StatusOr<HeartbeatResult> GrpcLeaseClient::Heartbeat(const std::vector<std::string>& lease_ids) {
  qv1::HeartbeatRequest req;
  req.set_executor_id(executor_id_);
  for (const std::string& id : lease_ids) req.add_lease_ids(id);
  qv1::HeartbeatResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, rpc_timeout_);
  grpc::Status s = stub_->Heartbeat(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  HeartbeatResult out;
  for (const qv1::Lease& l : resp.renewed()) {
    out.renewed.push_back(
        LeaseRenewal{l.lease_id(), FromUnixMs(l.expires_at_unix_ms()), l.abort_requested(), l.abort_reason()});
  }
  out.lost.assign(resp.lost_lease_ids().begin(), resp.lost_lease_ids().end());
  return out;
}

absl::Status GrpcLeaseClient::Complete(const std::string& lease_id, Phase final_phase) {
  qv1::CompleteRequest req;
  req.set_executor_id(executor_id_);
  req.set_lease_id(lease_id);
  req.set_final_phase(static_cast<int32_t>(final_phase));
  qv1::CompleteResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->Complete(&ctx, req, &resp));
}

absl::StatusOr<std::vector<absl::Status>> GrpcLeaseClient::CompleteBatch(
    const std::vector<Completion>& completions) {
  if (completions.empty()) return std::vector<absl::Status>{};
  if (!batches_served_.load()) return LeaseClient::CompleteBatch(completions);
  qv1::CompleteBatchRequest req;
  req.set_executor_id(executor_id_);
  for (const Completion& c : completions) {
    qv1::Completion* out = req.add_completions();
    out->set_lease_id(c.lease_id);
    out->set_final_phase(static_cast<int32_t>(c.final_phase));
  }
  qv1::CompleteBatchResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, rpc_timeout_);
  grpc::Status s = stub_->CompleteBatch(&ctx, req, &resp);
  return rpc::BatchAnswer(s, resp.statuses(), completions.size(), "queue-service", "completions", batches_served_,
                          [&] { return LeaseClient::CompleteBatch(completions); });
}

absl::Status GrpcLeaseClient::Release(const std::string& lease_id) {
  qv1::ReleaseRequest req;
  req.set_executor_id(executor_id_);
  req.set_lease_id(lease_id);
  qv1::ReleaseResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->Release(&ctx, req, &resp));
}

}  // namespace flyte::executor
