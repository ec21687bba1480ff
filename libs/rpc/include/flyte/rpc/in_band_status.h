#pragma once
// Outcomes carried inside a response (google.rpc.Status), as the batch APIs and StateService answer per item.
// google.rpc codes and absl::StatusCode share the canonical numbering.
#include <atomic>
#include <cstddef>
#include <string_view>
#include <vector>

#include <grpcpp/support/status.h>

#include <google/protobuf/repeated_ptr_field.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/rpc/status.h"
#include "google/rpc/status.pb.h"

namespace flyte::rpc {

google::rpc::Status ToRpcStatus(const absl::Status& s);
absl::Status FromRpcStatus(const google::rpc::Status& s);

// One absl::Status per item of a batch answer; INTERNAL ("<peer> answered 3 outcomes for 4 <items>") when the
// peer did not answer exactly `expected` items.
absl::StatusOr<std::vector<absl::Status>> FromRpcStatuses(
    const google::protobuf::RepeatedPtrField<google::rpc::Status>& statuses, size_t expected, std::string_view peer,
    std::string_view items);

// The answer of a batch call that returned `call`: the in-band outcomes, or, when the peer does not serve the batch
// method (UNIMPLEMENTED: another flyteidl2 implementation), `one_by_one()`, after which `batches_served` stays false
// so the client sends one call per item from then on.
template <class OneByOne>
absl::StatusOr<std::vector<absl::Status>> BatchAnswer(
    const grpc::Status& call, const google::protobuf::RepeatedPtrField<google::rpc::Status>& statuses,
    size_t expected, std::string_view peer, std::string_view items, std::atomic<bool>& batches_served,
    OneByOne one_by_one) {
  if (call.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    batches_served = false;
    return one_by_one();
  }
  if (!call.ok()) return FromGrpcStatus(call);
  return FromRpcStatuses(statuses, expected, peer, items);
}

}  // namespace flyte::rpc
