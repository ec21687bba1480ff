#pragma once
// StateClient over gRPC (synchronous stub) to runs-service's flyteidl2.workflow.StateService. Put sends the
// transition as `state` = proto3 JSON of flyteidl2.workflow.ActionEvent (id, attempt, phase, start/updated/end
// time, error_info, outputs.output_uri, cluster_events, log_info with the stdout/stderr URIs).
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "clients/state_client.h"
#include "flyteidl2/workflow/state_service.grpc.pb.h"

namespace flyte::executor {

class GrpcStateClient final : public StateClient {
 public:
  explicit GrpcStateClient(std::shared_ptr<grpc::Channel> channel,
                           std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10));

  absl::Status Put(const StateReport& report) override;
  absl::StatusOr<RecordedState> Get(const ActionKey& key) override;

 private:
  std::unique_ptr<flyteidl2::workflow::StateService::Stub> stub_;
  const std::chrono::milliseconds rpc_timeout_;
};

// The `state` JSON Put sends (exposed for tests).
std::string ToActionEventJson(const ActionTransition& t);

}  // namespace flyte::executor
