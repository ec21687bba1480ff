#pragma once
// flyteidl2.project.ProjectService adapter (CreateProject, UpdateProject, GetProject, ListProjects). Thread-safe.
#include "flyte/rpc/router.h"
#include "service/project_use_cases.h"

namespace flyte::runs::api {

class ProjectServiceApi {
 public:
  explicit ProjectServiceApi(ProjectUseCases& projects) : projects_(projects) {}
  void Register(rpc::Router& router);

 private:
  ProjectUseCases& projects_;
};

}  // namespace flyte::runs::api
