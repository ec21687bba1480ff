#pragma once
// SecretClient over gRPC (synchronous stub) to runs-service's flyte.internal.secret.v1.SecretResolveService.
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "clients/secret_client.h"
#include "flyte/internal/secret/v1/secret_resolve_service.grpc.pb.h"

namespace flyte::executor {

class GrpcSecretClient final : public SecretClient {
 public:
  // `internal_token` ("" = none) goes with every call as metadata flyte-internal-token (runs.internalToken).
  explicit GrpcSecretClient(std::shared_ptr<grpc::Channel> channel, std::string internal_token = "",
                            std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10));
  absl::StatusOr<std::vector<std::string>> Resolve(const std::string& org, const std::string& project,
                                                   const std::string& domain,
                                                   const std::vector<std::string>& names) override;

 private:
  std::unique_ptr<flyte::internal::secret::v1::SecretResolveService::Stub> stub_;
  const std::string internal_token_;
  const std::chrono::milliseconds rpc_timeout_;
};

}  // namespace flyte::executor
