#pragma once
// QueueClient over gRPC (synchronous stub; the QueueDispatcher calls it from its own thread, never from gRPC's).
// EnqueueBatch uses queue-service's internal flyte.internal.queue.v1.EnqueueBatchService (one call, one
// transaction); against a server that does not serve it (UNIMPLEMENTED, remembered) it sends EnqueueAction per item.
// Thread-safe.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "clients/queue_client.h"
#include "flyte/internal/queue/v1/enqueue_batch_service.grpc.pb.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"

namespace flyte::runs {

class GrpcQueueClient final : public QueueClient {
 public:
  explicit GrpcQueueClient(std::shared_ptr<grpc::Channel> channel,
                           std::chrono::milliseconds rpc_timeout = std::chrono::seconds(5));

  absl::Status EnqueueAction(const Action& action) override;
  absl::Status EnqueueRequest(const std::string& serialized_request) override;
  absl::StatusOr<std::vector<absl::Status>> EnqueueBatch(const std::vector<EnqueueItem>& items) override;
  absl::Status AbortRun(const RunKey& run, const std::string& reason) override;
  absl::Status AbortAction(const ActionKey& action, const std::string& reason) override;

 private:
  // One unary call with the client deadline; the transport status mapped to absl.
  template <class Stub, class Req, class Resp>
  grpc::Status Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp);

  std::unique_ptr<flyteidl2::workflow::QueueService::Stub> stub_;
  std::unique_ptr<flyte::internal::queue::v1::EnqueueBatchService::Stub> batch_stub_;
  std::atomic<bool> batches_served_{true};
  const std::chrono::milliseconds rpc_timeout_;
};

// "host:port" -> "dns:///host:port"; targets with a scheme (and unix:) unchanged.
std::string QueueGrpcTarget(const std::string& endpoint);
// A channel that notices a restarted queue-service quickly (reconnect backoff capped at `max_reconnect`).
std::shared_ptr<grpc::Channel> MakeQueueChannel(const std::string& endpoint, std::chrono::milliseconds max_reconnect);

// The request EnqueueAction sends for `action` (exposed for tests).
flyteidl2::workflow::EnqueueActionRequest BuildEnqueueRequest(const Action& action);

}  // namespace flyte::runs
