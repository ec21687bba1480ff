#pragma once
// QueueClient over gRPC (synchronous stub; the QueueDispatcher calls it from its own thread, never from gRPC's).
// Thread-safe.
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "clients/queue_client.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"

namespace flyte::runs {

class GrpcQueueClient final : public QueueClient {
 public:
  explicit GrpcQueueClient(std::shared_ptr<grpc::Channel> channel,
                           std::chrono::milliseconds rpc_timeout = std::chrono::seconds(5));

  absl::Status EnqueueAction(const Action& action) override;
  absl::Status EnqueueRequest(const std::string& serialized_request) override;
  absl::Status AbortRun(const RunKey& run, const std::string& reason) override;
  absl::Status AbortAction(const ActionKey& action, const std::string& reason) override;

 private:
  absl::Status Send(const flyteidl2::workflow::EnqueueActionRequest& req);

  std::unique_ptr<flyteidl2::workflow::QueueService::Stub> stub_;
  const std::chrono::milliseconds rpc_timeout_;
};

// "host:port" -> "dns:///host:port"; targets with a scheme (and unix:) unchanged.
std::string QueueGrpcTarget(const std::string& endpoint);
// A channel that notices a restarted queue-service quickly (reconnect backoff capped at `max_reconnect`).
std::shared_ptr<grpc::Channel> MakeQueueChannel(const std::string& endpoint, std::chrono::milliseconds max_reconnect);

// The request EnqueueAction sends for `action` (exposed for tests).
flyteidl2::workflow::EnqueueActionRequest BuildEnqueueRequest(const Action& action);

}  // namespace flyte::runs
