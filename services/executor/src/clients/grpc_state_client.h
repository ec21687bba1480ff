#pragma once
// StateClient over gRPC (synchronous stub) to runs-service's flyteidl2.workflow.StateService. Put sends the
// transition as `state` = proto3 JSON of flyteidl2.workflow.ActionEvent (id, attempt, phase, start/updated/end
// time, error_info, outputs.output_uri, cluster_events, log_info with the stdout/stderr URIs).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "clients/state_client.h"
#include "flyte/internal/state/v1/state_report_service.grpc.pb.h"
#include "flyteidl2/workflow/state_service.grpc.pb.h"

namespace flyte::executor {

class GrpcStateClient final : public StateClient {
 public:
  explicit GrpcStateClient(std::shared_ptr<grpc::Channel> channel,
                           std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10));

  absl::Status Put(const StateReport& report) override;
  // flyte.internal.state.v1.StateReportService.Report; StateService.Put per report when runs-service does not
  // serve it (UNIMPLEMENTED is remembered).
  absl::StatusOr<std::vector<absl::Status>> PutBatch(const std::vector<StateReport>& reports) override;
  absl::StatusOr<RecordedState> Get(const ActionKey& key) override;

 private:
  std::unique_ptr<flyteidl2::workflow::StateService::Stub> stub_;
  std::unique_ptr<flyte::internal::state::v1::StateReportService::Stub> report_stub_;
  std::atomic<bool> batches_served_{true};
  const std::chrono::milliseconds rpc_timeout_;
};

// The `state` JSON Put sends (exposed for tests).
std::string ToActionEventJson(const ActionTransition& t);
void ToActionEvent(const ActionTransition& t, flyteidl2::workflow::ActionEvent* out);

}  // namespace flyte::executor
