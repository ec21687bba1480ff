#include "domain/naming.h"
#include "api/task_service_api.h"

#include "api/converters.h"
#include "api/trigger_codec.h"
#include <google/protobuf/util/time_util.h>

#include "flyteidl2/task/task_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace tk = flyteidl2::task;
constexpr char kService[] = "flyteidl2.task.TaskService";
}  // namespace

void TaskServiceApi::Register(rpc::Router& router) {
  router.Unary<tk::DeployTaskRequest, tk::DeployTaskResponse>(
      kService, "DeployTask", [this](const rpc::CallContext&, const tk::DeployTaskRequest& req, tk::DeployTaskResponse*) {
        if (!req.has_task_id()) return absl::InvalidArgumentError("task_id is required");
        if (!req.has_spec()) return absl::InvalidArgumentError("spec is required");
        absl::StatusOr<Task> task = ToTask(req.task_id(), req.spec(), "task_id", "spec");
        if (!task.ok()) return task.status();
        // Triggers are checked before the task is stored, so a bad schedule deploys nothing.
        std::vector<Trigger> triggers;
        for (int i = 0; i < req.triggers_size(); ++i) {
          absl::StatusOr<Trigger> t = ToTrigger(req.triggers(i), task->key, "triggers[" + std::to_string(i) + "]");
          if (!t.ok()) return t.status();
          triggers.push_back(*std::move(t));
        }
        if (absl::Status s = tasks_.DeployTask(std::move(*task)); !s.ok()) return s;
        return triggers_.Deploy(std::move(triggers));
      });

  router.Unary<tk::GetTaskDetailsRequest, tk::GetTaskDetailsResponse>(
      kService, "GetTaskDetails",
      [this](const rpc::CallContext&, const tk::GetTaskDetailsRequest& req, tk::GetTaskDetailsResponse* resp) {
        absl::StatusOr<TaskKey> key = ToTaskKey(req.task_id(), "task_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<Task> task = tasks_.GetTaskDetails(*key);
        if (!task.ok()) return task.status();
        ToTaskDetails(*task, resp->mutable_details());
        return absl::OkStatus();
      });

  router.Unary<tk::ListTasksRequest, tk::ListTasksResponse>(
      kService, "ListTasks", [this](const rpc::CallContext&, const tk::ListTasksRequest& req, tk::ListTasksResponse* resp) {
        ListQuery q;
        switch (req.scope_by_case()) {
          case tk::ListTasksRequest::kOrg:
            q.org = OrgOrDefault(req.org());
            break;
          case tk::ListTasksRequest::kProjectId:
            if (req.project_id().name().empty()) return absl::InvalidArgumentError("project_id.name is required");
            if (req.project_id().domain().empty()) {
              return absl::InvalidArgumentError("project_id.domain is required");
            }
            q.org = OrgOrDefault(req.project_id().organization());
            q.project = req.project_id().name();
            q.domain = req.project_id().domain();
            break;
          default:
            return absl::InvalidArgumentError("org or project_id is required");
        }
        if (req.known_filters_size() > 0) return absl::InvalidArgumentError("known_filters is not supported");
        if (absl::Status s = ApplyListRequest(req.request(), TaskListFields(), "request", &q); !s.ok()) return s;
        absl::StatusOr<Page<Task>> page = tasks_.ListTasks(q);
        if (!page.ok()) return page.status();
        for (const Task& t : page->items) ToTaskMessage(t, resp->add_tasks());
        resp->set_token(NextToken(page->next_offset));
        return absl::OkStatus();
      });

  router.Unary<tk::ListVersionsRequest, tk::ListVersionsResponse>(
      kService, "ListVersions",
      [this](const rpc::CallContext&, const tk::ListVersionsRequest& req, tk::ListVersionsResponse* resp) {
        const auto& n = req.task_name();
        if (n.project().empty()) return absl::InvalidArgumentError("task_name.project is required");
        if (n.domain().empty()) return absl::InvalidArgumentError("task_name.domain is required");
        if (n.name().empty()) return absl::InvalidArgumentError("task_name.name is required");
        ListQuery q;
        q.org = OrgOrDefault(n.org());
        q.project = n.project();
        q.domain = n.domain();
        if (absl::Status s = ApplyListRequest(req.request(), TaskListFields(), "request", &q); !s.ok()) return s;
        absl::StatusOr<Page<Task>> page = tasks_.ListVersions(TaskKey{OrgOrDefault(n.org()), n.project(), n.domain(), n.name(), ""}, q);
        if (!page.ok()) return page.status();
        for (const Task& t : page->items) {
          auto* v = resp->add_versions();
          v->set_version(t.key.version);
          *v->mutable_deployed_at() =
              google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(t.updated_at));
        }
        resp->set_token(NextToken(page->next_offset));
        return absl::OkStatus();
      });
}

}  // namespace flyte::runs::api
