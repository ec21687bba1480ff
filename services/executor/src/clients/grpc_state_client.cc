#include "clients/grpc_state_client.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include "flyte/rpc/in_band_status.h"
#include "flyte/rpc/status.h"
#include "flyte/internal/state/v1/state_report_service.grpc.pb.h"
#include "flyteidl2/workflow/run_definition.pb.h"

namespace flyte::executor {
namespace {
namespace wf = flyteidl2::workflow;
namespace sr = flyte::internal::state::v1;

void SetTime(common::TimePoint t, google::protobuf::Timestamp* out) {
  const int64_t us = common::ToUnixMicros(t);
  int64_t secs = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --secs;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

void FillId(const ActionKey& key, flyteidl2::common::ActionIdentifier* id) {
  id->mutable_run()->set_org(key.org);
  id->mutable_run()->set_project(key.project);
  id->mutable_run()->set_domain(key.domain);
  id->mutable_run()->set_name(key.run_name);
  id->set_name(key.action_name);
}


}  // namespace

std::string ToActionEventJson(const ActionTransition& t) {
  wf::ActionEvent e;
  ToActionEvent(t, &e);
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(e, &json, opts);
  return json;
}

void ToActionEvent(const ActionTransition& t, wf::ActionEvent* out) {
  wf::ActionEvent& e = *out;
  FillId(t.key, e.mutable_id());
  e.set_attempt(static_cast<uint32_t>(t.attempt));
  e.set_phase(static_cast<flyteidl2::common::ActionPhase>(t.phase));
  SetTime(t.time, e.mutable_updated_time());
  SetTime(t.time, e.mutable_reported_time());
  // start_time/end_time are deprecated upstream but still read by consoles and SDK releases.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (t.phase == Phase::kInitializing || t.phase == Phase::kRunning) SetTime(t.time, e.mutable_start_time());
  if (IsTerminal(t.phase)) SetTime(t.time, e.mutable_end_time());
#pragma GCC diagnostic pop
  if (t.error) {
    wf::ErrorInfo* err = e.mutable_error_info();
    err->set_message(t.error->message);
    err->set_code(t.error->code);
    err->set_kind(t.error->kind == ErrorKind::kSystem ? wf::ErrorInfo::KIND_SYSTEM : wf::ErrorInfo::KIND_USER);
  }
  if (!t.output_uri.empty()) e.mutable_outputs()->set_output_uri(t.output_uri);
  e.set_cache_status(static_cast<flyteidl2::core::CatalogCacheStatus>(t.cache_status));
  if (!t.cluster_event.empty()) {
    wf::ClusterEvent* ce = e.add_cluster_events();
    SetTime(t.time, ce->mutable_occurred_at());
    ce->set_message(t.cluster_event);
  }
  for (const auto& [name, uri] : {std::pair<const char*, const std::string*>{"stdout", &t.stdout_uri},
                                  std::pair<const char*, const std::string*>{"stderr", &t.stderr_uri},
                                  std::pair<const char*, const std::string*>{"pod", &t.pod_log_uri}}) {
    if (uri->empty()) continue;
    auto* log = e.add_log_info();
    log->set_name(name);
    log->set_uri(*uri);
    log->set_ready(true);
  }
}

GrpcStateClient::GrpcStateClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds rpc_timeout)
    : stub_(wf::StateService::NewStub(channel)),
      report_stub_(sr::StateReportService::NewStub(channel)),
      rpc_timeout_(rpc_timeout) {}

absl::StatusOr<std::vector<absl::Status>> GrpcStateClient::PutBatch(const std::vector<StateReport>& reports) {
  if (!batches_served_.load()) return StateClient::PutBatch(reports);
  sr::ReportRequest req;
  for (const StateReport& r : reports) {
    sr::StateReport* out = req.add_reports();
    FillId(r.transition.key, out->mutable_action_id());
    out->set_parent_action_name(r.parent_action_name);
    ToActionEvent(r.transition, out->mutable_event());
    out->set_retry_follows(r.transition.retry_follows);
  }
  sr::ReportResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  grpc::Status s = report_stub_->Report(&ctx, req, &resp);
  return rpc::BatchAnswer(s, resp.statuses(), reports.size(), "runs-service", "state reports", batches_served_,
                          [&] { return StateClient::PutBatch(reports); });
}

absl::Status GrpcStateClient::Put(const StateReport& report) {
  wf::PutRequest req;
  FillId(report.transition.key, req.mutable_action_id());
  if (!report.parent_action_name.empty()) req.set_parent_action_name(report.parent_action_name);
  req.set_state(ToActionEventJson(report.transition));
  wf::PutResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  grpc::Status s = stub_->Put(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return rpc::FromRpcStatus(resp.status());
}

absl::StatusOr<RecordedState> GrpcStateClient::Get(const ActionKey& key) {
  wf::GetRequest req;
  FillId(key, req.mutable_action_id());
  wf::GetResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  grpc::Status s = stub_->Get(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  if (absl::Status in_band = rpc::FromRpcStatus(resp.status()); !in_band.ok()) return in_band;
  wf::ActionEvent e;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(resp.state(), &e, opts).ok()) {
    return absl::InternalError("runs-service answered a state that is not a JSON ActionEvent");
  }
  RecordedState out;
  out.phase = static_cast<Phase>(e.phase());
  out.attempt = static_cast<int>(e.attempt());
  if (e.has_error_info()) out.error_code = e.error_info().code();
  return out;
}

}  // namespace flyte::executor
