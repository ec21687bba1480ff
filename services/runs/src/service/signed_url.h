#pragma once
// Tokens of the data proxy's signed URLs: the claims (what the URL grants) and an HMAC-SHA256 over them under a
// key every replica shares, so any replica verifies a URL another one issued, also after restarts, with nothing
// kept in memory or in the database per URL.
//
// Token = base64url(claims) "." base64url(HMAC-SHA256(key, claims)), both without padding; the claims are
// "v1|<u|d>|<expiry, unix seconds>|<hex MD5 or empty>|<uri>". Pure functions, thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace flyte::runs {

struct UrlClaims {
  bool upload = false;     // PUT of `uri` (else GET)
  std::string uri;         // the blob
  int64_t expires_unix = 0;
  std::string md5;         // uploads: the raw MD5 the body must have ("" = any)
  bool operator==(const UrlClaims&) const = default;
};

std::string SignUrlClaims(const UrlClaims& claims, std::string_view key);
// kNotFound for anything that is not a token this key signed (malformed, tampered, another key), so a forged
// URL looks like an unknown one. Expiry is the caller's to check.
absl::StatusOr<UrlClaims> VerifyUrlToken(std::string_view token, std::string_view key);

}  // namespace flyte::runs
