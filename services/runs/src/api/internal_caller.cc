#include "api/internal_caller.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "flyte/common/digest.h"

namespace flyte::runs::api {

InternalCallerCheck::InternalCallerCheck(const std::string& token)
    : token_digest_(token.empty() ? std::string() : common::Sha256(token)) {}

absl::Status InternalCallerCheck::Check(const rpc::CallContext& ctx, const std::string& api) const {
  if (token_digest_.empty()) {
    if (IsLoopbackPeer(ctx.peer)) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        api, " answers only callers on this host when runs.internalToken is not set; caller ",
        ctx.peer.empty() ? "unknown" : ctx.peer, " refused (set runs.internalToken here and the executor's ",
        "executor.internalToken)"));
  }
  auto it = ctx.headers.find(kInternalTokenHeader);
  if (it == ctx.headers.end() || it->second.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat(api, " needs the internal token (header ", kInternalTokenHeader, "): none was sent"));
  }
  // Digests of equal length: the comparison's time says nothing about the token, not even its length.
  if (!common::ConstantTimeEquals(common::Sha256(it->second), token_digest_)) {
    return absl::PermissionDeniedError(
        absl::StrCat(api, ": the internal token sent (header ", kInternalTokenHeader, ") is not runs.internalToken"));
  }
  return absl::OkStatus();
}

bool IsLoopbackPeer(const std::string& peer) {
  if (absl::StartsWith(peer, "unix:")) return true;
  if (absl::StartsWith(peer, "ipv4:")) return absl::StartsWith(peer, "ipv4:127.");
  if (absl::StartsWith(peer, "ipv6:")) {
    // gRPC writes the brackets percent-encoded.
    const std::string rest = absl::StrReplaceAll(peer.substr(5), {{"%5B", "["}, {"%5D", "]"}});
    return absl::StartsWith(rest, "[::1]") || absl::StartsWith(rest, "[::ffff:127.");
  }
  return false;
}

}  // namespace flyte::runs::api
