#include "flyte/rpc/in_band_status.h"

#include <string>

namespace flyte::rpc {

google::rpc::Status ToRpcStatus(const absl::Status& s) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(s.code()));
  out.set_message(std::string(s.message()));
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& s) {
  if (s.code() == 0) return absl::OkStatus();
  int code = s.code();
  if (code < 1 || code > 16) code = static_cast<int>(absl::StatusCode::kUnknown);
  return absl::Status(static_cast<absl::StatusCode>(code), s.message());
}

absl::StatusOr<std::vector<absl::Status>> FromRpcStatuses(
    const google::protobuf::RepeatedPtrField<google::rpc::Status>& statuses, size_t expected, std::string_view peer,
    std::string_view items) {
  if (static_cast<size_t>(statuses.size()) != expected) {
    return absl::InternalError(std::string(peer) + " answered " + std::to_string(statuses.size()) + " outcomes for " +
                               std::to_string(expected) + " " + std::string(items));
  }
  std::vector<absl::Status> out;
  out.reserve(expected);
  for (const google::rpc::Status& s : statuses) out.push_back(FromRpcStatus(s));
  return out;
}

}  // namespace flyte::rpc
