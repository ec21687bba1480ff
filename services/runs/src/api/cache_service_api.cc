#include "api/cache_service_api.h"

#include <google/protobuf/util/time_util.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "flyteidl2/cacheservice/cacheservice.pb.h"
#include "flyteidl2/cacheservice/v2/cacheservice.pb.h"

namespace flyte::runs::api {
namespace {
namespace cs = flyteidl2::cacheservice;
namespace cs2 = flyteidl2::cacheservice::v2;
using google::protobuf::util::TimeUtil;
constexpr char kServiceV1[] = "flyteidl2.cacheservice.CacheService";
constexpr char kServiceV2[] = "flyteidl2.cacheservice.v2.CacheService";

google::protobuf::Timestamp ToTimestamp(common::TimePoint t) {
  return TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(t));
}

// v1 requests carry no identifier: their keys live in the unnamed scope. v2 keys live in "org/project/domain".
CacheEntryKey KeyOf(const std::string& key) { return CacheEntryKey{"", key}; }
absl::StatusOr<CacheEntryKey> KeyOf(const std::string& key, const cs2::Identifier& id, bool has_identifier) {
  if (!has_identifier) return absl::InvalidArgumentError("identifier is required");
  if (id.org().empty()) return absl::InvalidArgumentError("identifier.org is required");
  return CacheEntryKey{absl::StrCat(id.org(), "/", id.project(), "/", id.domain()), key};
}

absl::Status GetCache(CacheUseCases& cache, const absl::StatusOr<CacheEntryKey>& key, cs::GetCacheResponse* resp) {
  if (!key.ok()) return key.status();
  absl::StatusOr<CachedOutputRecord> e = cache.Get(*key);
  if (!e.ok()) return e.status();
  cs::CachedOutput* out = resp->mutable_output();
  if (!e->output_uri.empty()) {
    out->set_output_uri(e->output_uri);
  } else if (!out->mutable_output_literals()->ParseFromString(e->output_literals)) {
    return absl::DataLossError(absl::StrCat("cache entry ", key->key, " holds unreadable output literals"));
  }
  if (!e->metadata.empty() && !out->mutable_metadata()->ParseFromString(e->metadata)) {
    return absl::DataLossError(absl::StrCat("cache entry ", key->key, " holds unreadable metadata"));
  }
  *out->mutable_metadata()->mutable_created_at() = ToTimestamp(e->created_at);
  *out->mutable_metadata()->mutable_last_updated_at() = ToTimestamp(e->updated_at);
  return absl::OkStatus();
}

absl::Status PutCache(CacheUseCases& cache, const absl::StatusOr<CacheEntryKey>& key, const cs::PutCacheRequest& req) {
  if (!key.ok()) return key.status();
  if (req.overwrite().delete_blob()) {
    return absl::InvalidArgumentError("overwrite.delete_blob is not supported: replaced outputs are kept");
  }
  if (req.overwrite().has_max_age()) return absl::InvalidArgumentError("overwrite.max_age is not supported");
  if (!req.has_output()) return absl::InvalidArgumentError("output is required");
  CachedOutputRecord e;
  e.id = *key;
  e.output_uri = req.output().output_uri();
  if (req.output().has_output_literals()) req.output().output_literals().SerializeToString(&e.output_literals);
  if (req.output().has_metadata()) {
    cs::Metadata m = req.output().metadata();
    m.clear_created_at();  // ours, set by the use case
    m.clear_last_updated_at();
    m.SerializeToString(&e.metadata);
  }
  return cache.Put(std::move(e), req.overwrite().overwrite());
}

absl::Status Reserve(CacheUseCases& cache, const absl::StatusOr<CacheEntryKey>& key,
                     const cs::GetOrExtendReservationRequest& req, cs::GetOrExtendReservationResponse* resp) {
  if (!key.ok()) return key.status();
  auto heartbeat = std::chrono::milliseconds(TimeUtil::DurationToMilliseconds(req.heartbeat_interval()));
  absl::StatusOr<CacheReservation> r = cache.GetOrExtendReservation(*key, req.owner_id(), heartbeat);
  if (!r.ok()) return r.status();
  cs::Reservation* out = resp->mutable_reservation();
  out->set_key(req.key());
  out->set_owner_id(r->owner_id);
  *out->mutable_heartbeat_interval() = TimeUtil::MillisecondsToDuration(r->heartbeat_interval.count());
  *out->mutable_expires_at() = ToTimestamp(r->expires_at);
  return absl::OkStatus();
}

absl::Status Release(CacheUseCases& cache, const absl::StatusOr<CacheEntryKey>& key,
                     const cs::ReleaseReservationRequest& req) {
  if (!key.ok()) return key.status();
  return cache.ReleaseReservation(*key, req.owner_id());
}

}  // namespace

void CacheServiceApi::Register(rpc::Router& router) {
  router.Unary<cs::GetCacheRequest, cs::GetCacheResponse>(
      kServiceV1, "Get", [this](const rpc::CallContext&, const cs::GetCacheRequest& req, cs::GetCacheResponse* resp) {
        return GetCache(cache_, KeyOf(req.key()), resp);
      });
  router.Unary<cs::PutCacheRequest, cs::PutCacheResponse>(
      kServiceV1, "Put", [this](const rpc::CallContext&, const cs::PutCacheRequest& req, cs::PutCacheResponse*) {
        return PutCache(cache_, KeyOf(req.key()), req);
      });
  router.Unary<cs::DeleteCacheRequest, cs::DeleteCacheResponse>(
      kServiceV1, "Delete",
      [this](const rpc::CallContext&, const cs::DeleteCacheRequest& req, cs::DeleteCacheResponse*) {
        return cache_.Delete(KeyOf(req.key()));
      });
  router.Unary<cs::GetOrExtendReservationRequest, cs::GetOrExtendReservationResponse>(
      kServiceV1, "GetOrExtendReservation",
      [this](const rpc::CallContext&, const cs::GetOrExtendReservationRequest& req,
             cs::GetOrExtendReservationResponse* resp) { return Reserve(cache_, KeyOf(req.key()), req, resp); });
  router.Unary<cs::ReleaseReservationRequest, cs::ReleaseReservationResponse>(
      kServiceV1, "ReleaseReservation",
      [this](const rpc::CallContext&, const cs::ReleaseReservationRequest& req, cs::ReleaseReservationResponse*) {
        return Release(cache_, KeyOf(req.key()), req);
      });

  router.Unary<cs2::GetCacheRequest, cs::GetCacheResponse>(
      kServiceV2, "Get", [this](const rpc::CallContext&, const cs2::GetCacheRequest& req, cs::GetCacheResponse* resp) {
        return GetCache(cache_, KeyOf(req.base_request().key(), req.identifier(), req.has_identifier()), resp);
      });
  router.Unary<cs2::PutCacheRequest, cs::PutCacheResponse>(
      kServiceV2, "Put", [this](const rpc::CallContext&, const cs2::PutCacheRequest& req, cs::PutCacheResponse*) {
        return PutCache(cache_, KeyOf(req.base_request().key(), req.identifier(), req.has_identifier()),
                        req.base_request());
      });
  router.Unary<cs2::DeleteCacheRequest, cs::DeleteCacheResponse>(
      kServiceV2, "Delete",
      [this](const rpc::CallContext&, const cs2::DeleteCacheRequest& req, cs::DeleteCacheResponse*) {
        absl::StatusOr<CacheEntryKey> key = KeyOf(req.base_request().key(), req.identifier(), req.has_identifier());
        if (!key.ok()) return key.status();
        return cache_.Delete(*key);
      });
  router.Unary<cs2::GetOrExtendReservationRequest, cs::GetOrExtendReservationResponse>(
      kServiceV2, "GetOrExtendReservation",
      [this](const rpc::CallContext&, const cs2::GetOrExtendReservationRequest& req,
             cs::GetOrExtendReservationResponse* resp) {
        return Reserve(cache_, KeyOf(req.base_request().key(), req.identifier(), req.has_identifier()),
                       req.base_request(), resp);
      });
  router.Unary<cs2::ReleaseReservationRequest, cs::ReleaseReservationResponse>(
      kServiceV2, "ReleaseReservation",
      [this](const rpc::CallContext&, const cs2::ReleaseReservationRequest& req, cs::ReleaseReservationResponse*) {
        return Release(cache_, KeyOf(req.base_request().key(), req.identifier(), req.has_identifier()),
                       req.base_request());
      });
}

}  // namespace flyte::runs::api
