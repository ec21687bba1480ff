#include "api/trigger_service_api.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "api/converters.h"
#include "api/trigger_codec.h"
#include "domain/naming.h"
#include "flyteidl2/trigger/trigger_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace tr = flyteidl2::trigger;
namespace tk = flyteidl2::task;
constexpr char kService[] = "flyteidl2.trigger.TriggerService";

absl::StatusOr<std::vector<TriggerKey>> ToKeys(const google::protobuf::RepeatedPtrField<flyteidl2::common::TriggerName>& names) {
  if (names.empty()) return absl::InvalidArgumentError("names is required");
  std::vector<TriggerKey> keys;
  for (int i = 0; i < names.size(); ++i) {
    absl::StatusOr<TriggerKey> k = ToTriggerKey(names[i], absl::StrCat("names[", i, "]"));
    if (!k.ok()) return k.status();
    keys.push_back(*k);
  }
  return keys;
}

absl::StatusOr<TriggerScope> ToScope(const tr::ListTriggersRequest& req) {
  TriggerScope s;
  switch (req.scope_by_case()) {
    case tr::ListTriggersRequest::kOrg:
      s.org = OrgOrDefault(req.org());
      return s;
    case tr::ListTriggersRequest::kProjectId:
      if (req.project_id().name().empty()) return absl::InvalidArgumentError("project_id.name is required");
      s.org = OrgOrDefault(req.project_id().organization());
      s.project = req.project_id().name();
      s.domain = req.project_id().domain();
      return s;
    case tr::ListTriggersRequest::kTaskName: {
      const tk::TaskName& n = req.task_name();
      if (n.project().empty()) return absl::InvalidArgumentError("task_name.project is required");
      if (n.domain().empty()) return absl::InvalidArgumentError("task_name.domain is required");
      if (n.name().empty()) return absl::InvalidArgumentError("task_name.name is required");
      s = TriggerScope{OrgOrDefault(n.org()), n.project(), n.domain(), n.name(), ""};
      return s;
    }
    case tr::ListTriggersRequest::kTaskId: {
      absl::StatusOr<TaskKey> k = ToTaskKey(req.task_id(), "task_id");
      if (!k.ok()) return k.status();
      s = TriggerScope{k->org, k->project, k->domain, k->name, k->version};
      return s;
    }
    default:
      return absl::InvalidArgumentError("org, project_id, task_name or task_id is required");
  }
}

}  // namespace

void TriggerServiceApi::Register(rpc::Router& router) {
  router.Unary<tr::DeployTriggerRequest, tr::DeployTriggerResponse>(
      kService, "DeployTrigger",
      [this](const rpc::CallContext&, const tr::DeployTriggerRequest& req, tr::DeployTriggerResponse* resp) {
        absl::StatusOr<TriggerKey> key = ToTriggerKey(req.name(), "name");
        if (!key.ok()) return key.status();
        if (req.spec().task_version().empty()) return absl::InvalidArgumentError("spec.task_version is required");
        if (req.revision() != 0) {
          return absl::InvalidArgumentError("revision is not supported: a deploy always replaces the current one");
        }
        // The same checks as a trigger deployed with its task.
        tk::TaskTrigger as_task_trigger;
        as_task_trigger.set_name(key->name);
        tk::TaskTriggerSpec* spec = as_task_trigger.mutable_spec();
        spec->set_active(req.spec().active());
        if (req.spec().has_inputs()) *spec->mutable_inputs() = req.spec().inputs();
        if (req.spec().has_offloaded_input_data()) *spec->mutable_offloaded_input_data() = req.spec().offloaded_input_data();
        if (req.spec().has_run_spec()) *spec->mutable_run_spec() = req.spec().run_spec();
        spec->set_description(req.spec().description());
        *as_task_trigger.mutable_automation_spec() = req.automation_spec();
        const TaskKey task{key->org, key->project, key->domain, key->task_name, req.spec().task_version()};
        absl::StatusOr<Trigger> t = ToTrigger(as_task_trigger, task, "spec");
        if (!t.ok()) return t.status();
        if (absl::Status s = triggers_.Deploy({*t}); !s.ok()) return s;
        absl::StatusOr<Trigger> stored = triggers_.Get(*key);
        if (!stored.ok()) return stored.status();
        ToTriggerDetails(*stored, resp->mutable_trigger());
        return absl::OkStatus();
      });

  router.Unary<tr::GetTriggerDetailsRequest, tr::GetTriggerDetailsResponse>(
      kService, "GetTriggerDetails",
      [this](const rpc::CallContext&, const tr::GetTriggerDetailsRequest& req, tr::GetTriggerDetailsResponse* resp) {
        absl::StatusOr<TriggerKey> key = ToTriggerKey(req.name(), "name");
        if (!key.ok()) return key.status();
        absl::StatusOr<Trigger> t = triggers_.Get(*key);
        if (!t.ok()) return t.status();
        ToTriggerDetails(*t, resp->mutable_trigger());
        return absl::OkStatus();
      });

  router.Unary<tr::GetTriggerRevisionDetailsRequest, tr::GetTriggerRevisionDetailsResponse>(
      kService, "GetTriggerRevisionDetails",
      [this](const rpc::CallContext&, const tr::GetTriggerRevisionDetailsRequest& req,
             tr::GetTriggerRevisionDetailsResponse* resp) {
        absl::StatusOr<TriggerKey> key = ToTriggerKey(req.id().name(), "id.name");
        if (!key.ok()) return key.status();
        absl::StatusOr<Trigger> t = triggers_.Get(*key);
        if (!t.ok()) return t.status();
        if (req.id().revision() != 0 && static_cast<int64_t>(req.id().revision()) != t->revision) {
          return absl::NotFoundError(absl::StrCat("id.revision ", req.id().revision(), " of trigger ", key->name,
                                                  " is not kept: only the current revision ", t->revision, " is"));
        }
        ToTriggerDetails(*t, resp->mutable_trigger());
        return absl::OkStatus();
      });

  router.Unary<tr::ListTriggersRequest, tr::ListTriggersResponse>(
      kService, "ListTriggers",
      [this](const rpc::CallContext&, const tr::ListTriggersRequest& req, tr::ListTriggersResponse* resp) {
        absl::StatusOr<TriggerScope> scope = ToScope(req);
        if (!scope.ok()) return scope.status();
        ListQuery q;
        static const FieldAllowlist kNoFields;  // filters and sort keys are refused, naming the field
        if (absl::Status s = ApplyListRequest(req.request(), kNoFields, "request", &q); !s.ok()) return s;
        if (!q.sort.empty()) return absl::InvalidArgumentError("request.sort_by is not supported");
        // One more than asked tells whether another page follows.
        absl::StatusOr<std::vector<Trigger>> page =
            triggers_.List(*scope, static_cast<int>(q.offset), static_cast<int>(q.limit) + 1);
        if (!page.ok()) return page.status();
        const bool more = page->size() > q.limit;
        if (more) page->pop_back();
        for (const Trigger& t : *page) ToTriggerMessage(t, resp->add_triggers());
        resp->set_token(more ? NextToken(q.offset + q.limit) : "");
        return absl::OkStatus();
      });

  router.Unary<tr::GetTriggerRevisionHistoryRequest, tr::GetTriggerRevisionHistoryResponse>(
      kService, "GetTriggerRevisionHistory",
      [](const rpc::CallContext&, const tr::GetTriggerRevisionHistoryRequest&, tr::GetTriggerRevisionHistoryResponse*) {
        return absl::UnimplementedError("GetTriggerRevisionHistory is not supported: only a trigger's current "
                                        "revision is kept (GetTriggerDetails)");
      });

  router.Unary<tr::UpdateTriggersRequest, tr::UpdateTriggersResponse>(
      kService, "UpdateTriggers",
      [this](const rpc::CallContext&, const tr::UpdateTriggersRequest& req, tr::UpdateTriggersResponse*) {
        absl::StatusOr<std::vector<TriggerKey>> keys = ToKeys(req.names());
        if (!keys.ok()) return keys.status();
        return triggers_.SetActive(*keys, req.active());
      });

  router.Unary<tr::DeleteTriggersRequest, tr::DeleteTriggersResponse>(
      kService, "DeleteTriggers",
      [this](const rpc::CallContext&, const tr::DeleteTriggersRequest& req, tr::DeleteTriggersResponse*) {
        absl::StatusOr<std::vector<TriggerKey>> keys = ToKeys(req.names());
        if (!keys.ok()) return keys.status();
        return triggers_.Delete(*keys);
      });
}

}  // namespace flyte::runs::api
