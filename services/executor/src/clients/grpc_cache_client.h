#pragma once
// CacheClient over gRPC (synchronous stub) to runs-service's flyteidl2.cacheservice.v2.CacheService, keys scoped
// by the identity's org/project/domain.
#include <chrono>
#include <memory>

#include <grpcpp/channel.h>

#include "clients/cache_client.h"
#include "flyteidl2/cacheservice/v2/cacheservice.grpc.pb.h"

namespace flyte::executor {

class GrpcCacheClient final : public CacheClient {
 public:
  explicit GrpcCacheClient(std::shared_ptr<grpc::Channel> channel,
                           std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10));

  absl::StatusOr<std::string> Get(const CacheIdentity& id) override;
  absl::Status Put(const CacheIdentity& id, const std::string& output_uri, const ActionKey& source,
                   bool overwrite) override;
  absl::StatusOr<CacheReservationHolder> Reserve(const CacheIdentity& id, const std::string& owner_id,
                                                 std::chrono::milliseconds heartbeat) override;
  absl::Status Release(const CacheIdentity& id, const std::string& owner_id) override;

 private:
  std::unique_ptr<flyteidl2::cacheservice::v2::CacheService::Stub> stub_;
  const std::chrono::milliseconds rpc_timeout_;
};

}  // namespace flyte::executor
