#include "flyte/common/aead.h"

#include <catch2/catch.hpp>

#include "flyte/common/digest.h"

namespace flyte::common {
namespace {

TEST_CASE("a sealed value opens to the plaintext under the same key and associated data", "[unit]") {
  std::string key = RandomBytes(32);
  absl::StatusOr<std::string> sealed = SealAes256Gcm(key, "hunter2", "org/p/d/name");
  REQUIRE(sealed.ok());
  CHECK(sealed->find("hunter2") == std::string::npos);
  absl::StatusOr<std::string> opened = OpenAes256Gcm(key, *sealed, "org/p/d/name");
  REQUIRE(opened.ok());
  CHECK(*opened == "hunter2");
  // A fresh nonce each time: the same plaintext never seals to the same bytes.
  CHECK(*SealAes256Gcm(key, "hunter2", "org/p/d/name") != *sealed);
  CHECK(*OpenAes256Gcm(key, *SealAes256Gcm(key, "", "a"), "a") == "");
}

TEST_CASE("a sealed value does not open under another key, other associated data, or altered", "[unit]") {
  std::string key = RandomBytes(32);
  std::string sealed = *SealAes256Gcm(key, "hunter2", "org/p/d/name");
  CHECK(OpenAes256Gcm(RandomBytes(32), sealed, "org/p/d/name").status().code() == absl::StatusCode::kDataLoss);
  CHECK(OpenAes256Gcm(key, sealed, "org/p/d/other").status().code() == absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x01;
    CHECK(OpenAes256Gcm(key, tampered, "org/p/d/name").status().code() == absl::StatusCode::kDataLoss);
  }
  CHECK(OpenAes256Gcm(key, sealed.substr(0, 20), "org/p/d/name").status().code() == absl::StatusCode::kDataLoss);
  CHECK(SealAes256Gcm("short", "x", "").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(OpenAes256Gcm("short", sealed, "").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flyte::common
