// CacheService (v1 and v2) adapters through their registered Router methods: v2 keys scoped by the identifier,
// v1 keys in their own scope, what is refused (naming the field), the status mapping and the message shapes.
#include <catch2/catch.hpp>

#include "api/cache_service_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/cacheservice/cacheservice.pb.h"
#include "flyteidl2/cacheservice/v2/cacheservice.pb.h"
#include "repository/store_factory.h"
#include "support/router_store.h"
#include "support/unary_call.h"

namespace flyte::runs {
namespace {

namespace cs = flyteidl2::cacheservice;
namespace cs2 = flyteidl2::cacheservice::v2;
using absl::StatusCode;

constexpr char kV1[] = "/flyteidl2.cacheservice.CacheService/";
constexpr char kV2[] = "/flyteidl2.cacheservice.v2.CacheService/";

struct Env : test::RouterStore {
  std::unique_ptr<CacheUseCases> cache;
  std::unique_ptr<api::CacheServiceApi> api;

  Env() {
    cache = std::make_unique<CacheUseCases>(store->Cache(), clock);
    api = std::make_unique<api::CacheServiceApi>(*cache);
    api->Register(router);
  }

  template <class Req, class Resp>
  absl::Status Call(const std::string& path, const Req& req, Resp* resp) {
    return test::CallUnary(router, path, req, resp);
  }
};

cs2::PutCacheRequest PutV2(const std::string& project, const std::string& key, const std::string& uri) {
  cs2::PutCacheRequest req;
  req.mutable_identifier()->set_org("org");
  req.mutable_identifier()->set_project(project);
  req.mutable_identifier()->set_domain("dev");
  req.mutable_base_request()->set_key(key);
  req.mutable_base_request()->mutable_output()->set_output_uri(uri);
  (*req.mutable_base_request()->mutable_output()->mutable_metadata()->mutable_key_map()->mutable_values())["a"] = "b";
  return req;
}

cs2::GetCacheRequest GetV2(const std::string& project, const std::string& key) {
  cs2::GetCacheRequest req;
  req.mutable_identifier()->set_org("org");
  req.mutable_identifier()->set_project(project);
  req.mutable_identifier()->set_domain("dev");
  req.mutable_base_request()->set_key(key);
  return req;
}

}  // namespace

TEST_CASE("CacheService v2: entries per identifier scope, overwrite, delete", "[api]") {
  Env env;
  cs::PutCacheResponse put;
  REQUIRE(env.Call(std::string(kV2) + "Put", PutV2("p1", "k", "file:///c/p1"), &put).ok());
  cs::GetCacheResponse got;
  REQUIRE(env.Call(std::string(kV2) + "Get", GetV2("p1", "k"), &got).ok());
  CHECK(got.output().output_uri() == "file:///c/p1");
  CHECK(got.output().metadata().key_map().values().at("a") == "b");
  CHECK(got.output().metadata().created_at().seconds() == 1'700'000'000);
  // Another project, or v1 (no identifier), is another scope.
  CHECK(env.Call(std::string(kV2) + "Get", GetV2("p2", "k"), &got).code() == StatusCode::kNotFound);
  cs::GetCacheRequest v1;
  v1.set_key("k");
  CHECK(env.Call(std::string(kV1) + "Get", v1, &got).code() == StatusCode::kNotFound);

  absl::Status again = env.Call(std::string(kV2) + "Put", PutV2("p1", "k", "file:///c/new"), &put);
  CHECK(again.code() == StatusCode::kAlreadyExists);
  cs2::PutCacheRequest over = PutV2("p1", "k", "file:///c/new");
  over.mutable_base_request()->mutable_overwrite()->set_overwrite(true);
  REQUIRE(env.Call(std::string(kV2) + "Put", over, &put).ok());
  REQUIRE(env.Call(std::string(kV2) + "Get", GetV2("p1", "k"), &got).ok());
  CHECK(got.output().output_uri() == "file:///c/new");

  cs2::DeleteCacheRequest del;
  *del.mutable_identifier() = GetV2("p1", "k").identifier();
  del.mutable_base_request()->set_key("k");
  cs::DeleteCacheResponse deleted;
  REQUIRE(env.Call(std::string(kV2) + "Delete", del, &deleted).ok());
  CHECK(env.Call(std::string(kV2) + "Delete", del, &deleted).code() == StatusCode::kNotFound);
}

TEST_CASE("CacheService: what is not supported is refused naming the field", "[api]") {
  Env env;
  cs::PutCacheResponse put;
  cs2::PutCacheRequest req = PutV2("p", "k", "file:///x");
  req.mutable_base_request()->mutable_overwrite()->set_delete_blob(true);
  absl::Status s = env.Call(std::string(kV2) + "Put", req, &put);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("overwrite.delete_blob") != std::string::npos);
  req = PutV2("p", "k", "file:///x");
  req.mutable_base_request()->mutable_overwrite()->mutable_max_age()->set_seconds(60);
  s = env.Call(std::string(kV2) + "Put", req, &put);
  CHECK(std::string(s.message()).find("overwrite.max_age") != std::string::npos);
  req = PutV2("p", "k", "file:///x");
  req.clear_identifier();
  CHECK(env.Call(std::string(kV2) + "Put", req, &put).message() == "identifier is required");
  req = PutV2("p", "", "file:///x");
  CHECK(env.Call(std::string(kV2) + "Put", req, &put).message() == "key is required");
  cs::PutCacheRequest v1;
  v1.set_key("k");
  CHECK(env.Call(std::string(kV1) + "Put", v1, &put).message() == "output is required");
}

TEST_CASE("CacheService: reservations answer the holder, expire and are released by their owner", "[api]") {
  Env env;
  cs2::GetOrExtendReservationRequest req;
  req.mutable_identifier()->set_org("org");
  req.mutable_base_request()->set_key("k");
  req.mutable_base_request()->set_owner_id("alice");
  req.mutable_base_request()->mutable_heartbeat_interval()->set_seconds(2);
  cs::GetOrExtendReservationResponse resp;
  REQUIRE(env.Call(std::string(kV2) + "GetOrExtendReservation", req, &resp).ok());
  CHECK(resp.reservation().owner_id() == "alice");
  CHECK(resp.reservation().key() == "k");
  CHECK(resp.reservation().heartbeat_interval().seconds() == 2);
  CHECK(resp.reservation().expires_at().seconds() == 1'700'000'006);  // 3 heartbeats

  req.mutable_base_request()->set_owner_id("bob");
  REQUIRE(env.Call(std::string(kV2) + "GetOrExtendReservation", req, &resp).ok());
  CHECK(resp.reservation().owner_id() == "alice");
  cs2::ReleaseReservationRequest release;
  *release.mutable_identifier() = req.identifier();
  release.mutable_base_request()->set_key("k");
  release.mutable_base_request()->set_owner_id("bob");
  cs::ReleaseReservationResponse released;
  CHECK(env.Call(std::string(kV2) + "ReleaseReservation", release, &released).code() ==
        StatusCode::kFailedPrecondition);
  env.clock.Advance(std::chrono::seconds(6));  // alice stopped heartbeating: expired
  REQUIRE(env.Call(std::string(kV2) + "GetOrExtendReservation", req, &resp).ok());
  CHECK(resp.reservation().owner_id() == "bob");
  REQUIRE(env.Call(std::string(kV2) + "ReleaseReservation", release, &released).ok());

  req.mutable_base_request()->clear_owner_id();
  CHECK(env.Call(std::string(kV2) + "GetOrExtendReservation", req, &resp).message() == "owner_id is required");
}

}  // namespace flyte::runs
