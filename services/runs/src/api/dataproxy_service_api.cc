#include "domain/naming.h"
#include "api/dataproxy_service_api.h"

#include <google/protobuf/util/time_util.h>

#include "api/converters.h"
#include "flyteidl2/dataproxy/dataproxy_service.pb.h"
#include "flyteidl2/task/task_definition.pb.h"

namespace flyte::runs::api {
namespace {
namespace dp = flyteidl2::dataproxy;
using google::protobuf::util::TimeUtil;
constexpr char kService[] = "flyteidl2.dataproxy.DataProxyService";
constexpr char kUploadPrefix[] = "/dataproxy/upload/";
constexpr char kDownloadPrefix[] = "/dataproxy/download/";

std::optional<std::chrono::seconds> ToSeconds(const google::protobuf::Duration& d, bool present) {
  if (!present) return std::nullopt;
  return std::chrono::seconds(d.seconds() + (d.nanos() > 0 ? 1 : 0));
}

google::protobuf::Timestamp ToTimestamp(common::TimePoint t) {
  return TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(t));
}

// The path segment after `prefix` up to the next '/' or '?'.
std::string TokenOf(const std::string& target, const char* prefix) {
  std::string rest = target.substr(std::string(prefix).size());
  size_t end = rest.find_first_of("/?");
  return end == std::string::npos ? rest : rest.substr(0, end);
}

rpc::HttpResponse HttpError(const absl::Status& s) {
  rpc::HttpResponse r;
  switch (s.code()) {
    case absl::StatusCode::kNotFound: r.status = 404; break;
    case absl::StatusCode::kPermissionDenied: r.status = 403; break;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument: r.status = 400; break;
    case absl::StatusCode::kUnimplemented: r.status = 501; break;
    default: r.status = 500; break;
  }
  r.body = std::string(s.message()) + "\n";
  return r;
}

std::string ContentType(const std::string& name) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".txt") || ends(".log")) return "text/plain; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".gz") || ends(".tgz")) return "application/gzip";
  return "application/octet-stream";
}

// The code bundle an action ran (see CodeBundleUri).
std::string CodeBundleUriOf(const std::string& task_spec) {
  flyteidl2::task::TaskSpec spec;
  if (task_spec.empty() || !spec.ParseFromString(task_spec)) return "";
  return CodeBundleUri(spec);
}

}  // namespace

void DataProxyServiceApi::Register(rpc::Router& router) {
  router.Unary<dp::UploadInputsRequest, dp::UploadInputsResponse>(
      kService, "UploadInputs",
      [this](const rpc::CallContext&, const dp::UploadInputsRequest& req, dp::UploadInputsResponse* resp) {
        std::string org, project, domain;
        switch (req.id_case()) {
          case dp::UploadInputsRequest::kRunId:
            org = OrgOrDefault(req.run_id().org());
            project = req.run_id().project();
            domain = req.run_id().domain();
            break;
          case dp::UploadInputsRequest::kProjectId:
            org = OrgOrDefault(req.project_id().organization());
            project = req.project_id().name();
            domain = req.project_id().domain();
            break;
          default:
            return absl::InvalidArgumentError("run_id or project_id is required");
        }
        std::string bytes;
        if (!req.inputs().SerializeToString(&bytes)) return absl::InvalidArgumentError("inputs cannot be serialized");
        absl::StatusOr<OffloadedInputs> out = data_.UploadInputs(org, project, domain, bytes, req.base_dir());
        if (!out.ok()) return out.status();
        resp->mutable_offloaded_input_data()->set_uri(out->uri);
        resp->mutable_offloaded_input_data()->set_inputs_hash(out->inputs_hash);
        return absl::OkStatus();
      });

  router.Unary<dp::CreateUploadLocationRequest, dp::CreateUploadLocationResponse>(
      kService, "CreateUploadLocation",
      [this](const rpc::CallContext&, const dp::CreateUploadLocationRequest& req,
             dp::CreateUploadLocationResponse* resp) {
        UploadLocationParams p;
        p.org = OrgOrDefault(req.org());
        p.project = req.project();
        p.domain = req.domain();
        p.filename = req.filename();
        p.filename_root = req.filename_root();
        p.content_md5 = req.content_md5();
        p.expires_in = ToSeconds(req.expires_in(), req.has_expires_in());
        absl::StatusOr<UploadLocation> loc = data_.CreateUploadLocation(p);
        if (!loc.ok()) return loc.status();
        resp->set_signed_url(loc->signed_url);
        resp->set_native_url(loc->native_url);
        *resp->mutable_expires_at() = ToTimestamp(loc->expires_at);
        for (const auto& [k, v] : loc->headers) (*resp->mutable_headers())[k] = v;
        return absl::OkStatus();
      });

  router.Unary<dp::CreateDownloadLinkRequest, dp::CreateDownloadLinkResponse>(
      kService, "CreateDownloadLink",
      [this](const rpc::CallContext&, const dp::CreateDownloadLinkRequest& req, dp::CreateDownloadLinkResponse* resp) {
        if (req.source_case() != dp::CreateDownloadLinkRequest::kActionAttemptId) {
          return absl::UnimplementedError("only action_attempt_id download links are served");
        }
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_attempt_id().action_id(), "action_attempt_id.action_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<ActionWithAttempts> action = data_.GetAction(*key);
        if (!action.ok()) return action.status();
        std::string uri;
        switch (req.artifact_type()) {
          case dp::ARTIFACT_TYPE_REPORT: {
            // The SDK writes report.html into the attempt's output prefix.
            uint32_t attempt = req.action_attempt_id().attempt();
            if (attempt == 0) attempt = action->action.attempts;
            std::string prefix;
            for (const Attempt& a : action->attempts) {
              if (a.attempt == attempt) prefix = a.output_uri;
            }
            if (prefix.empty() && !action->action.run_output_base.empty() && attempt > 0) {
              std::string base = action->action.run_output_base;
              if (base.back() != '/') base.push_back('/');
              prefix = base + key->name + "/" + std::to_string(attempt);
            }
            if (prefix.empty()) return absl::NotFoundError("action has no report");
            if (prefix.back() != '/') prefix.push_back('/');
            uri = prefix + "report.html";
            break;
          }
          case dp::ARTIFACT_TYPE_CODE_BUNDLE:
            uri = CodeBundleUriOf(action->action.task_spec);
            if (uri.empty()) return absl::NotFoundError("the action's task carries no code bundle");
            break;
          default:
            return absl::InvalidArgumentError("artifact_type is required");
        }
        absl::StatusOr<SignedLink> link =
            data_.CreateDownloadLink(uri, ToSeconds(req.expires_in(), req.has_expires_in()));
        if (!link.ok()) return link.status();
        resp->mutable_pre_signed_urls()->add_signed_url(link->url);
        *resp->mutable_pre_signed_urls()->mutable_expires_at() = ToTimestamp(link->expires_at);
        return absl::OkStatus();
      });

  router.Unary<dp::GetActionDataRequest, dp::GetActionDataResponse>(
      kService, "GetActionData",
      [this](const rpc::CallContext&, const dp::GetActionDataRequest& req, dp::GetActionDataResponse* resp) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<ActionDataView> data = data_.GetActionData(*key);
        if (!data.ok()) return data.status();
        if (!data->inputs.empty() && !resp->mutable_inputs()->ParseFromString(data->inputs)) {
          return absl::DataLossError("stored inputs of " + key->run.name + "/" + key->name + " are not valid Inputs");
        }
        if (!data->outputs.empty() && !resp->mutable_outputs()->ParseFromString(data->outputs)) {
          return absl::DataLossError("stored outputs of " + key->run.name + "/" + key->name + " are not valid Outputs");
        }
        resp->set_inputs_uri(data->inputs_uri);
        resp->set_outputs_uri(data->outputs_uri);
        return absl::OkStatus();
      });
}

rpc::HttpResponse DataProxyServiceApi::HandleUpload(const rpc::HttpRequest& req) {
  std::string content_md5;
  if (auto it = req.headers.find("content-md5"); it != req.headers.end()) content_md5 = it->second;
  absl::Status s = data_.AcceptUpload(TokenOf(req.target, kUploadPrefix), content_md5, req.body);
  if (!s.ok()) return HttpError(s);
  rpc::HttpResponse r;
  r.status = 200;
  return r;
}

rpc::HttpResponse DataProxyServiceApi::HandleDownload(const rpc::HttpRequest& req) {
  absl::StatusOr<DownloadedBlob> blob = data_.Download(TokenOf(req.target, kDownloadPrefix));
  if (!blob.ok()) return HttpError(blob.status());
  rpc::HttpResponse r;
  r.status = 200;
  r.content_type = ContentType(blob->name);
  r.body = std::move(blob->bytes);
  return r;
}

void DataProxyServiceApi::RegisterHttp(rpc::Server& server) {
  server.AddHttpRoute("PUT", kUploadPrefix, [this](const rpc::HttpRequest& req) { return HandleUpload(req); });
  server.AddHttpRoute("GET", kDownloadPrefix, [this](const rpc::HttpRequest& req) { return HandleDownload(req); });
}

}  // namespace flyte::runs::api
