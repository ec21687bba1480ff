#pragma once
// Calls a unary method registered on a Router by its full path ("/package.Service/Method"), as a transport would.
#include <string>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "flyte/rpc/router.h"

namespace flyte::runs::test {

template <class Req, class Resp>
absl::Status CallUnary(rpc::Router& router, const std::string& path, const Req& req, Resp* resp,
                       const rpc::CallContext& ctx = {}) {
  const rpc::Method* m = router.Find(path);
  REQUIRE(m != nullptr);
  return m->unary(ctx, req, resp);
}

}  // namespace flyte::runs::test
