#pragma once
// One generic callback service that serves every Router method over gRPC (internal).
#include <grpcpp/generic/async_generic_service.h>

#include "server_core.h"

namespace flyte::rpc::internal {

class GrpcGenericService final : public grpc::CallbackGenericService {
 public:
  explicit GrpcGenericService(ServerCore* core) : core_(core) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  ServerCore* core_;
};

}  // namespace flyte::rpc::internal
