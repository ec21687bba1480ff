#include "clients/grpc_cache_client.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include "flyte/rpc/status.h"

namespace flyte::executor {
namespace {
namespace cs = flyteidl2::cacheservice;
namespace cs2 = flyteidl2::cacheservice::v2;
using google::protobuf::util::TimeUtil;

void FillIdentifier(const CacheIdentity& id, cs2::Identifier* out) {
  out->set_org(id.scope_org);
  out->set_project(id.scope_project);
  out->set_domain(id.scope_domain);
}

}  // namespace

GrpcCacheClient::GrpcCacheClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds rpc_timeout)
    : stub_(cs2::CacheService::NewStub(std::move(channel))), rpc_timeout_(rpc_timeout) {}

absl::StatusOr<std::string> GrpcCacheClient::Get(const CacheIdentity& id) {
  cs2::GetCacheRequest req;
  req.mutable_base_request()->set_key(id.key);
  FillIdentifier(id, req.mutable_identifier());
  cs::GetCacheResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  grpc::Status s = stub_->Get(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  if (resp.output().output_uri().empty()) {
    return absl::FailedPreconditionError("cache entry " + id.key + " holds inline literals, not an output prefix");
  }
  return resp.output().output_uri();
}

absl::Status GrpcCacheClient::Put(const CacheIdentity& id, const std::string& output_uri, const ActionKey& source,
                                  bool overwrite) {
  cs2::PutCacheRequest req;
  cs::PutCacheRequest& base = *req.mutable_base_request();
  base.set_key(id.key);
  base.mutable_output()->set_output_uri(output_uri);
  auto& values = *base.mutable_output()->mutable_metadata()->mutable_key_map()->mutable_values();
  values["source_action"] = source.ToString();
  values["discovery_version"] = id.version;
  base.mutable_overwrite()->set_overwrite(overwrite);
  FillIdentifier(id, req.mutable_identifier());
  cs::PutCacheResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->Put(&ctx, req, &resp));
}

absl::StatusOr<CacheReservationHolder> GrpcCacheClient::Reserve(const CacheIdentity& id, const std::string& owner_id,
                                                                std::chrono::milliseconds heartbeat) {
  cs2::GetOrExtendReservationRequest req;
  req.mutable_base_request()->set_key(id.key);
  req.mutable_base_request()->set_owner_id(owner_id);
  *req.mutable_base_request()->mutable_heartbeat_interval() = TimeUtil::MillisecondsToDuration(heartbeat.count());
  FillIdentifier(id, req.mutable_identifier());
  cs::GetOrExtendReservationResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  grpc::Status s = stub_->GetOrExtendReservation(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return CacheReservationHolder{
      resp.reservation().owner_id(),
      common::FromUnixMicros(TimeUtil::TimestampToMicroseconds(resp.reservation().expires_at()))};
}

absl::Status GrpcCacheClient::Release(const CacheIdentity& id, const std::string& owner_id) {
  cs2::ReleaseReservationRequest req;
  req.mutable_base_request()->set_key(id.key);
  req.mutable_base_request()->set_owner_id(owner_id);
  FillIdentifier(id, req.mutable_identifier());
  cs::ReleaseReservationResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return rpc::FromGrpcStatus(stub_->ReleaseReservation(&ctx, req, &resp));
}

}  // namespace flyte::executor
