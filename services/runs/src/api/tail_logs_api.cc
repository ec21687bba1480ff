#include "api/tail_logs_api.h"

#include "api/converters.h"
#include "flyteidl2/dataproxy/dataproxy_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace dp = flyteidl2::dataproxy;
constexpr char kService[] = "flyteidl2.dataproxy.DataProxyService";
}  // namespace

void TailLogsApi::Register(rpc::Router& router) {
  router.ServerStreaming<dp::TailLogsRequest, dp::TailLogsResponse>(
      kService, "TailLogs",
      [this](const rpc::CallContext&, const dp::TailLogsRequest& req, rpc::ServerStream<dp::TailLogsResponse> stream) {
        if (!req.pod_name().empty()) {
          return stream.Finish(absl::InvalidArgumentError(
              "pod_name: choosing a Pod is not supported; an attempt has one Pod, given by action_id and attempt"));
        }
        if (!req.connector_endpoint().empty()) {
          return stream.Finish(
              absl::UnimplementedError("connector_endpoint: connector task logs are not served by this service"));
        }
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return stream.Finish(key.status());
        absl::StatusOr<std::unique_ptr<LogTail>> tail = logs_.Open(*key, req.attempt());
        if (!tail.ok()) return stream.Finish(tail.status());
        if (absl::Status s = streams_.Follow(std::move(*tail), stream); !s.ok()) stream.Finish(s);
      });
}

}  // namespace flyte::runs::api
