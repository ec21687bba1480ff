#include "domain/naming.h"
#include "api/project_service_api.h"

#include <string>

#include "flyteidl2/project/project_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace pj = flyteidl2::project;
constexpr char kService[] = "flyteidl2.project.ProjectService";

ProjectRecord ToRecord(const pj::Project& p) {
  ProjectRecord r;
  r.id = p.id();
  r.name = p.name();
  r.description = p.description();
  r.org = OrgOrDefault(p.org());
  for (const auto& [k, v] : p.labels().values()) r.labels[k] = v;
  r.state = static_cast<ProjectState>(p.state());
  return r;
}

void ToMessage(const ProjectRecord& r, const std::vector<std::string>& domains, pj::Project* out) {
  out->set_id(r.id);
  out->set_name(r.name);
  out->set_description(r.description);
  out->set_org(r.org);
  out->set_state(static_cast<pj::ProjectState>(r.state));
  for (const auto& [k, v] : r.labels) (*out->mutable_labels()->mutable_values())[k] = v;
  for (const std::string& d : domains) {
    pj::Domain* dom = out->add_domains();
    dom->set_id(d);
    dom->set_name(d);
  }
}

}  // namespace

void ProjectServiceApi::Register(rpc::Router& router) {
  router.Unary<pj::CreateProjectRequest, pj::CreateProjectResponse>(
      kService, "CreateProject",
      [this](const rpc::CallContext&, const pj::CreateProjectRequest& req, pj::CreateProjectResponse*) {
        if (!req.has_project()) return absl::InvalidArgumentError("project is required");
        return projects_.CreateProject(ToRecord(req.project()));
      });

  router.Unary<pj::UpdateProjectRequest, pj::UpdateProjectResponse>(
      kService, "UpdateProject",
      [this](const rpc::CallContext&, const pj::UpdateProjectRequest& req, pj::UpdateProjectResponse*) {
        if (!req.has_project()) return absl::InvalidArgumentError("project is required");
        if (req.project().domains_size() > 0) {
          return absl::InvalidArgumentError("project.domains cannot be changed (they come from runs.domains)");
        }
        return projects_.UpdateProject(ToRecord(req.project()));
      });

  router.Unary<pj::GetProjectRequest, pj::GetProjectResponse>(
      kService, "GetProject",
      [this](const rpc::CallContext&, const pj::GetProjectRequest& req, pj::GetProjectResponse* resp) {
        absl::StatusOr<ProjectRecord> p = projects_.GetProject(req.id());
        if (!p.ok()) return p.status();
        ToMessage(*p, projects_.domains(), resp->mutable_project());
        return absl::OkStatus();
      });

  router.Unary<pj::ListProjectsRequest, pj::ListProjectsResponse>(
      kService, "ListProjects",
      [this](const rpc::CallContext&, const pj::ListProjectsRequest& req, pj::ListProjectsResponse* resp) {
        ProjectListQuery q;
        if (req.limit() > 1000) return absl::InvalidArgumentError("limit must be at most 1000");
        q.limit = req.limit();
        if (!req.token().empty()) {
          try {
            size_t used = 0;
            q.offset = std::stoull(req.token(), &used);
            if (used != req.token().size()) throw std::invalid_argument("token");
          } catch (const std::exception&) {
            return absl::InvalidArgumentError("token is not one this service issued");
          }
        }
        q.filters = req.filters();
        if (req.has_sort_by()) {
          q.sort_key = req.sort_by().key();
          q.descending = req.sort_by().direction() == flyteidl2::common::Sort::DESCENDING;
        }
        absl::StatusOr<ProjectsPage> page = projects_.ListProjects(q);
        if (!page.ok()) return page.status();
        for (const ProjectRecord& p : page->items) {
          ToMessage(p, projects_.domains(), resp->mutable_projects()->add_projects());
        }
        if (page->next_offset) resp->mutable_projects()->set_token(std::to_string(*page->next_offset));
        return absl::OkStatus();
      });
}

}  // namespace flyte::runs::api
