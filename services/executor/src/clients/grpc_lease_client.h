#pragma once
// LeaseClient over gRPC (synchronous stub on the caller's thread), to queue-service's LeaseService. CompleteBatch
// uses LeaseService.CompleteBatch (one call, one transaction); against a server that does not serve it
// (UNIMPLEMENTED, remembered) it sends Complete per lease.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "clients/lease_client.h"
#include "flyte/internal/queue/v1/lease_service.grpc.pb.h"

namespace flyte::executor {

class GrpcLeaseClient final : public LeaseClient {
 public:
  // `rpc_timeout` bounds every call but Acquire, whose deadline is its wait plus `rpc_timeout`.
  GrpcLeaseClient(std::shared_ptr<grpc::Channel> channel, std::string executor_id,
                  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10));

  absl::StatusOr<std::vector<Lease>> Acquire(uint32_t max, std::chrono::milliseconds wait) override;
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::vector<std::string>& lease_ids) override;
  absl::Status Complete(const std::string& lease_id, Phase final_phase) override;
  absl::StatusOr<std::vector<absl::Status>> CompleteBatch(const std::vector<Completion>& completions) override;
  absl::Status Release(const std::string& lease_id) override;
  const std::string& executor_id() const override { return executor_id_; }
  void CancelAcquire() override;
  // The stream has no deadline: it stays open until the server ends it, the connection drops or
  // CancelWatchAborts.
  absl::Status WatchAborts(const std::function<void()>& on_live,
                           const std::function<void(const AbortPush&)>& on_abort) override;
  void CancelWatchAborts() override;

 private:
  std::unique_ptr<flyte::internal::queue::v1::LeaseService::Stub> stub_;
  const std::string executor_id_;
  const std::chrono::milliseconds rpc_timeout_;
  std::atomic<bool> batches_served_{true};
  std::mutex mu_;
  grpc::ClientContext* acquiring_ = nullptr;  // the Acquire in flight, for CancelAcquire
  bool cancelled_ = false;
  grpc::ClientContext* watching_ = nullptr;  // the WatchAborts stream open, for CancelWatchAborts
  bool watch_cancelled_ = false;
};

}  // namespace flyte::executor
