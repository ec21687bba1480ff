#include "flyte/common/digest.h"

#include <catch2/catch.hpp>

using flyte::common::ConstantTimeEquals;
using flyte::common::HexEncode;
using flyte::common::HmacSha256;
using flyte::common::Sha256;

TEST_CASE("SHA-256 and HMAC-SHA256 match the published test vectors", "[unit]") {
  // FIPS 180-2 "abc"; RFC 4231 test cases 1 and 2.
  CHECK(HexEncode(Sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(HmacSha256("", "x").size() == 32);
  CHECK(HmacSha256("", "x") != HmacSha256("k", "x"));
}

TEST_CASE("random bytes", "[unit]") {
  CHECK(flyte::common::RandomBytes(32).size() == 32);
  CHECK(flyte::common::RandomBytes(32) != flyte::common::RandomBytes(32));
  CHECK(flyte::common::RandomBytes(0).empty());
}

TEST_CASE("constant-time comparison", "[unit]") {
  CHECK(ConstantTimeEquals("", ""));
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK(!ConstantTimeEquals("abc", "abd"));
  CHECK(!ConstantTimeEquals("abc", "ab"));
}
