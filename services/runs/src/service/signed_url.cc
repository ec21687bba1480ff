#include "service/signed_url.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "flyte/common/digest.h"

namespace flyte::runs {
namespace {

constexpr char kVersion[] = "v1";

absl::Status Unknown() { return absl::NotFoundError("unknown or expired URL"); }

}  // namespace

std::string SignUrlClaims(const UrlClaims& c, std::string_view key) {
  const std::string claims = std::string(kVersion) + "|" + (c.upload ? "u" : "d") + "|" +
                             std::to_string(c.expires_unix) + "|" + absl::BytesToHexString(c.md5) + "|" + c.uri;
  return absl::WebSafeBase64Escape(claims) + "." + absl::WebSafeBase64Escape(common::HmacSha256(key, claims));
}

absl::StatusOr<UrlClaims> VerifyUrlToken(std::string_view token, std::string_view key) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Unknown();
  std::string claims, mac;
  // abseil's string_view is its own type here (not std::string_view).
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), dot), &claims) ||
      !absl::WebSafeBase64Unescape(absl::string_view(token.data() + dot + 1, token.size() - dot - 1), &mac)) {
    return Unknown();
  }
  if (!common::ConstantTimeEquals(mac, common::HmacSha256(key, claims))) return Unknown();
  // Signed by us, so well formed; checked anyway.
  std::vector<std::string> parts = absl::StrSplit(claims, absl::MaxSplits('|', 4));
  UrlClaims c;
  if (parts.size() != 5 || parts[0] != kVersion || (parts[1] != "u" && parts[1] != "d") ||
      !absl::SimpleAtoi(parts[2], &c.expires_unix) || parts[4].empty()) {
    return Unknown();
  }
  c.upload = parts[1] == "u";
  c.md5 = absl::HexStringToBytes(parts[3]);
  c.uri = parts[4];
  return c;
}

}  // namespace flyte::runs
