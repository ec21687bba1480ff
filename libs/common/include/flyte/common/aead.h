#pragma once
// Authenticated encryption with AES-256-GCM (OpenSSL's EVP underneath), for values kept at rest (user secrets in
// the runs database). A sealed value is: 12-byte random nonce || ciphertext || 16-byte tag. The associated data is
// authenticated but not stored: opening with other associated data fails, so a sealed value copied onto another
// row does not open. Thread-safe, never throw.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace flyte::common {

inline constexpr size_t kAes256KeyBytes = 32;

// kInvalidArgument if `key` is not 32 bytes.
absl::StatusOr<std::string> SealAes256Gcm(std::string_view key, std::string_view plaintext,
                                          std::string_view associated_data);
// kInvalidArgument if `key` is not 32 bytes; kDataLoss if `sealed` is truncated, was sealed under another key or
// other associated data, or was altered.
absl::StatusOr<std::string> OpenAes256Gcm(std::string_view key, std::string_view sealed,
                                          std::string_view associated_data);

}  // namespace flyte::common
