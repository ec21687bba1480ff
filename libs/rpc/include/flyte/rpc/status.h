#pragma once
// The one mapping from absl::Status to what clients see. Both transports use it.
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace flyte::rpc {

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

// Connect protocol: "invalid_argument", "not_found", ... (https://connectrpc.com/docs/protocol#error-codes)
std::string_view ConnectCodeName(absl::StatusCode code);
// HTTP status Connect specifies for a unary error with this code.
int ConnectHttpStatus(absl::StatusCode code);
// Inverse of ConnectCodeName; kUnknown for unknown names.
absl::StatusCode FromConnectCodeName(std::string_view name);

}  // namespace flyte::rpc
