#pragma once
// Who may call runs-service's internal APIs that hand out what users must not see (SecretResolveService: secret
// values in plaintext). With runs.internalToken set: a caller sending that token in the header
// flyte-internal-token (gRPC metadata or HTTP header); none sent -> UNAUTHENTICATED, another -> PERMISSION_DENIED.
// Without one: only callers on this host (a loopback peer: 127.0.0.0/8, ::1, a Unix socket) -> else
// PERMISSION_DENIED saying to set runs.internalToken. Messages name the reason, never the token.
// Thread-safe (immutable).
#include <string>

#include "absl/status/status.h"
#include "flyte/rpc/router.h"

namespace flyte::runs::api {

inline constexpr char kInternalTokenHeader[] = "flyte-internal-token";

class InternalCallerCheck {
 public:
  explicit InternalCallerCheck(const std::string& token);
  absl::Status Check(const rpc::CallContext& ctx, const std::string& api) const;

 private:
  std::string token_digest_;  // SHA-256 of the token; "" = no token: loopback callers only
};

// The peer ("ipv4:127.0.0.1:5555", "ipv6:[::1]:5555", "unix:...") is on this host.
bool IsLoopbackPeer(const std::string& peer);

}  // namespace flyte::runs::api
