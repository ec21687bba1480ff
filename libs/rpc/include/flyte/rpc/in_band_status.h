#pragma once
// Outcomes carried inside a response (google.rpc.Status), as the batch APIs and StateService answer per item.
// google.rpc codes and absl::StatusCode share the canonical numbering.
#include <cstddef>
#include <string_view>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/rpc/status.pb.h"

namespace flyte::rpc {

google::rpc::Status ToRpcStatus(const absl::Status& s);
absl::Status FromRpcStatus(const google::rpc::Status& s);

// One absl::Status per item of a batch answer; INTERNAL ("<peer> answered 3 outcomes for 4 <items>") when the
// peer did not answer exactly `expected` items.
absl::StatusOr<std::vector<absl::Status>> FromRpcStatuses(
    const google::protobuf::RepeatedPtrField<google::rpc::Status>& statuses, size_t expected, std::string_view peer,
    std::string_view items);

}  // namespace flyte::rpc
