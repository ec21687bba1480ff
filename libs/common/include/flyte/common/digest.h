#pragma once
// SHA-256 and HMAC-SHA256 (OpenSSL's libcrypto underneath). Thread-safe, never throw.
#include <string>
#include <string_view>

namespace flyte::common {

// 32 raw bytes.
std::string Sha256(std::string_view data);
// 32 raw bytes: HMAC-SHA256 of `data` under `key` (any length).
std::string HmacSha256(std::string_view key, std::string_view data);
// `n` bytes from the operating system's CSPRNG (for keys and secrets). Aborts if none can be had.
std::string RandomBytes(size_t n);
// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);
// Equal lengths and contents, in time that depends only on the length (for comparing MACs).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace flyte::common
