#include "api/state_service_api.h"

#include "api/converters.h"
#include "api/watch_streams.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "flyte/rpc/in_band_status.h"

namespace flyte::runs::api {
namespace {
namespace wf = flyteidl2::workflow;
constexpr char kService[] = "flyteidl2.workflow.StateService";

// Outcomes the client should act on travel in-band; an outage fails the call so the client's retry kicks in.
bool InBand(const absl::Status& s) {
  return s.code() != absl::StatusCode::kUnavailable && s.code() != absl::StatusCode::kResourceExhausted &&
         s.code() != absl::StatusCode::kInternal;
}
}  // namespace

void StateServiceApi::Register(rpc::Router& router) {
  router.Unary<wf::PutRequest, wf::PutResponse>(
      kService, "Put", [this](const rpc::CallContext&, const wf::PutRequest& req, wf::PutResponse* resp) {
        *resp->mutable_action_id() = req.action_id();
        absl::Status result = [&]() -> absl::Status {
          absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
          if (!key.ok()) return key.status();
          absl::StatusOr<ActionEvent> event = ParseStateJson(req.state());
          if (!event.ok()) return event.status();
          std::optional<std::string> parent;
          if (req.has_parent_action_name() && !req.parent_action_name().empty()) parent = req.parent_action_name();
          return state_.Put(*key, parent, *event).status();
        }();
        if (!InBand(result)) return result;
        *resp->mutable_status() = rpc::ToRpcStatus(result);
        return absl::OkStatus();
      });

  router.Unary<wf::GetRequest, wf::GetResponse>(
      kService, "Get", [this](const rpc::CallContext&, const wf::GetRequest& req, wf::GetResponse* resp) {
        *resp->mutable_action_id() = req.action_id();
        absl::Status result = [&]() -> absl::Status {
          absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
          if (!key.ok()) return key.status();
          absl::StatusOr<ActionWithAttempts> a = state_.Get(*key);
          if (!a.ok()) return a.status();
          resp->set_state(ToStateJson(*a));
          return absl::OkStatus();
        }();
        if (!InBand(result)) return result;
        *resp->mutable_status() = rpc::ToRpcStatus(result);
        return absl::OkStatus();
      });

  router.ServerStreaming<wf::WatchRequest, wf::WatchResponse>(
      kService, "Watch",
      [this](const rpc::CallContext&, const wf::WatchRequest& req, rpc::ServerStream<wf::WatchResponse> stream) {
        if (!req.has_parent_action_id()) {
          return stream.Finish(absl::InvalidArgumentError("parent_action_id is required"));
        }
        absl::StatusOr<ActionKey> parent = ToActionKey(req.parent_action_id(), "parent_action_id");
        if (!parent.ok()) return stream.Finish(parent.status());
        StateUseCases::WatchSink sink;
        sink.send = [stream](const Action& a) {
          wf::WatchResponse resp;
          ToActionUpdate(a, resp.mutable_action_update());
          return stream.Send(resp);
        };
        sink.sentinel = [stream] {
          wf::WatchResponse resp;
          resp.mutable_control_message()->set_sentinel(true);
          return stream.Send(resp);
        };
        KeepWatchUntilDone(stream, state_.Watch(*parent, std::move(sink)));
      });
}

}  // namespace flyte::runs::api
