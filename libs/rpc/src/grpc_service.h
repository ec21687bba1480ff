#pragma once
// One generic callback service that serves every Router method over gRPC (internal).
#include <grpcpp/generic/async_generic_service.h>

#include "grpc_write_pump.h"
#include "server_core.h"

namespace flyte::rpc::internal {

class GrpcGenericService final : public grpc::CallbackGenericService {
 public:
  explicit GrpcGenericService(ServerCore* core) : core_(core), write_pump_(kWritePumpThreads) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  // As many as the Connect side's io threads (2); not tuned further (see grpc_write_pump.h).
  static constexpr int kWritePumpThreads = 2;

  ServerCore* core_;
  GrpcWritePump write_pump_;  // must outlive the grpc::Server, which the owner destroys first
};

}  // namespace flyte::rpc::internal
