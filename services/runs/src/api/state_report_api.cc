#include "api/state_report_api.h"

#include <string>

#include "api/converters.h"
#include "flyte/internal/state/v1/state_report_service.pb.h"
#include "flyte/rpc/in_band_status.h"

namespace flyte::runs::api {
namespace {
namespace sr = flyte::internal::state::v1;
constexpr char kService[] = "flyte.internal.state.v1.StateReportService";
constexpr int kMaxReports = 1000;
}  // namespace

void StateReportApi::Register(rpc::Router& router) {
  router.Unary<sr::ReportRequest, sr::ReportResponse>(
      kService, "Report", [this](const rpc::CallContext&, const sr::ReportRequest& req, sr::ReportResponse* resp) {
        if (req.reports_size() == 0 || req.reports_size() > kMaxReports) {
          return absl::InvalidArgumentError("reports: between 1 and " + std::to_string(kMaxReports) +
                                            " reports per call, got " + std::to_string(req.reports_size()));
        }
        // Reports whose id cannot be read are answered in place; the rest go to the use case in order.
        std::vector<absl::Status> outcome(req.reports_size());
        std::vector<StateUseCases::Report> reports;
        std::vector<int> index;
        for (int i = 0; i < req.reports_size(); ++i) {
          const sr::StateReport& r = req.reports(i);
          absl::StatusOr<ActionKey> key =
              ToActionKey(r.action_id(), "reports[" + std::to_string(i) + "].action_id");
          if (!key.ok()) {
            outcome[i] = key.status();
            continue;
          }
          StateUseCases::Report report{*key, std::nullopt, FromActionEventProto(r.event())};
          report.event.retry_follows = r.retry_follows();
          if (!r.parent_action_name().empty()) report.parent = r.parent_action_name();
          reports.push_back(std::move(report));
          index.push_back(i);
        }
        std::vector<absl::Status> applied = state_.PutMany(reports);
        for (size_t b = 0; b < applied.size(); ++b) {
          // An outage fails the call, so the client retries the batch (as StateService.Put fails the call).
          const absl::StatusCode c = applied[b].code();
          if (c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kResourceExhausted ||
              c == absl::StatusCode::kInternal) {
            return applied[b];
          }
          outcome[index[b]] = applied[b];
        }
        for (const absl::Status& s : outcome) *resp->add_statuses() = rpc::ToRpcStatus(s);
        return absl::OkStatus();
      });
}

}  // namespace flyte::runs::api
