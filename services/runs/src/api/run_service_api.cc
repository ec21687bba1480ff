#include "api/run_service_api.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "api/converters.h"
#include "api/trigger_codec.h"
#include "api/watch_streams.h"
#include "domain/naming.h"
#include "flyte/common/digest.h"
#include "flyteidl2/common/run.pb.h"
#include "flyteidl2/workflow/run_service.pb.h"

namespace flyte::runs::api {
namespace {

namespace wf = flyteidl2::workflow;
constexpr char kService[] = "flyteidl2.workflow.RunService";

// Two CreateRun requests are the same when their deterministic serializations are equal once the default org is
// filled in (proto and JSON clients, and map fields in any order, agree). Only named runs can be repeated.
std::string RequestDigest(const wf::CreateRunRequest& req) {
  if (req.id_case() != wf::CreateRunRequest::kRunId || req.run_id().name().empty()) return "";
  wf::CreateRunRequest normalized = req;
  normalized.mutable_run_id()->set_org(OrgOrDefault(req.run_id().org()));
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    normalized.SerializeToCodedStream(&coded);
  }
  return common::HexEncode(common::Sha256(bytes));
}

// RunSpec.relation / RunSpec.recover: a RECOVER relation makes a recovery run of a run in the same
// org/project/domain; other relations (RERUN, SPAWN, ...) are provenance only, kept in the stored run spec.
absl::StatusOr<std::optional<RunRecovery>> ToRecovery(const flyteidl2::task::RunSpec& spec, const RunKey& run) {
  const bool recover = spec.has_relation() && spec.relation().relation_type() == flyteidl2::common::RELATION_TYPE_RECOVER;
  if (!recover) {
    if (spec.has_recover()) {
      return absl::InvalidArgumentError("run_spec.recover needs run_spec.relation.relation_type RELATION_TYPE_RECOVER");
    }
    return std::nullopt;
  }
  const auto& source = spec.relation().related_to();
  if (source.name().empty()) return absl::InvalidArgumentError("run_spec.relation.related_to.name is required");
  if (absl::Status s = ValidateRunName(source.name()); !s.ok()) {
    return absl::InvalidArgumentError("run_spec.relation.related_to.name " + std::string(s.message()));
  }
  const std::string org = source.org().empty() ? run.org : OrgOrDefault(source.org());
  const std::string& project = source.project().empty() ? run.project : source.project();
  const std::string& domain = source.domain().empty() ? run.domain : source.domain();
  if (org != run.org || project != run.project || domain != run.domain) {
    return absl::InvalidArgumentError("run_spec.relation.related_to: a run can only recover a run of its own org, "
                                      "project and domain (" + run.org + "/" + run.project + "/" + run.domain + ")");
  }
  RunRecovery r;
  r.source_run = source.name();
  for (const std::string& name : spec.recover().force_rerun_actions()) r.force_rerun_actions.push_back(name);
  return r;
}

absl::StatusOr<CreateRunParams> ToCreateRunParams(const wf::CreateRunRequest& req) {
  CreateRunParams p;
  switch (req.id_case()) {
    case wf::CreateRunRequest::kRunId: {
      const auto& id = req.run_id();
      if (id.project().empty()) return absl::InvalidArgumentError("run_id.project is required");
      if (id.domain().empty()) return absl::InvalidArgumentError("run_id.domain is required");
      p.run = RunKey{OrgOrDefault(id.org()), id.project(), id.domain(), id.name()};  // empty name: generated
      break;
    }
    case wf::CreateRunRequest::kProjectId: {
      const auto& id = req.project_id();
      if (id.name().empty()) return absl::InvalidArgumentError("project_id.name is required");
      if (id.domain().empty()) return absl::InvalidArgumentError("project_id.domain is required");
      p.run = RunKey{OrgOrDefault(id.organization()), id.name(), id.domain(), ""};
      break;
    }
    default:
      return absl::InvalidArgumentError("run_id or project_id is required");
  }
  if (!p.run.name.empty()) {
    if (absl::Status s = ValidateRunName(p.run.name); !s.ok()) {
      return absl::InvalidArgumentError("run_id.name " + std::string(s.message()));
    }
  }
  switch (req.task_case()) {
    case wf::CreateRunRequest::kTaskId: {
      absl::StatusOr<TaskKey> key = ToTaskKey(req.task_id(), "task_id");
      if (!key.ok()) return key.status();
      p.task_id = *key;
      break;
    }
    case wf::CreateRunRequest::kTaskSpec: {
      const auto& spec = req.task_spec();
      if (!spec.has_task_template()) return absl::InvalidArgumentError("task_spec.task_template is required");
      // An inline task is identified by its template id; missing parts default to the run's scope.
      const auto& tid = spec.task_template().id();
      flyteidl2::task::TaskIdentifier id;
      id.set_org(tid.org().empty() ? p.run.org : tid.org());
      id.set_project(tid.project().empty() ? p.run.project : tid.project());
      id.set_domain(tid.domain().empty() ? p.run.domain : tid.domain());
      id.set_name(tid.name().empty() ? spec.short_name() : tid.name());
      id.set_version(tid.version());
      if (id.name().empty()) return absl::InvalidArgumentError("task_spec.task_template.id.name is required");
      // Nothing is deployed for an inline spec, so a version is optional.
      absl::StatusOr<Task> task = ToTask(id, spec, "task_spec.task_template.id", "task_spec", false);
      if (!task.ok()) return task.status();
      p.inline_task = std::move(*task);
      break;
    }
    case wf::CreateRunRequest::kTriggerName:
      break;  // resolved to the trigger's task version by the handler
    default:
      return absl::InvalidArgumentError("task_id or task_spec is required");
  }
  switch (req.input_wrapper_case()) {
    case wf::CreateRunRequest::kInputs:
      p.inputs = req.inputs().SerializeAsString();
      break;
    case wf::CreateRunRequest::kOffloadedInputData:
      if (req.offloaded_input_data().uri().empty()) {
        return absl::InvalidArgumentError("offloaded_input_data.uri is required");
      }
      p.offloaded_input_uri = req.offloaded_input_data().uri();
      break;
    default:
      p.inputs = std::string();
      break;
  }
  if (req.has_run_spec()) {
    p.run_spec = req.run_spec().SerializeAsString();
    for (const auto& [k, v] : req.run_spec().labels().values()) p.labels[k] = v;
    absl::StatusOr<std::optional<RunRecovery>> recovery = ToRecovery(req.run_spec(), p.run);
    if (!recovery.ok()) return recovery.status();
    p.recovery = *std::move(recovery);
  }
  // Provenance the run shows in its ActionMetadata: where it was started from, which run it reruns or recovers.
  if (req.source() != wf::RUN_SOURCE_UNSPECIFIED || req.run_spec().has_relation()) {
    wf::ActionMetadata extras;
    extras.set_source(req.source());
    if (req.run_spec().has_relation()) *extras.mutable_relation() = req.run_spec().relation();
    p.metadata = extras.SerializeAsString();
  }
  p.request_digest = RequestDigest(req);
  return p;
}

// The scope of ListRuns: exactly one of org / project_id / task_name / task_id.
absl::Status ApplyRunsScope(const wf::ListRunsRequest& req, ListQuery* q) {
  switch (req.scope_by_case()) {
    case wf::ListRunsRequest::kOrg:
      q->org = OrgOrDefault(req.org());
      return absl::OkStatus();
    case wf::ListRunsRequest::kProjectId:
      if (req.project_id().name().empty()) return absl::InvalidArgumentError("project_id.name is required");
      if (req.project_id().domain().empty()) return absl::InvalidArgumentError("project_id.domain is required");
      q->org = OrgOrDefault(req.project_id().organization());
      q->project = req.project_id().name();
      q->domain = req.project_id().domain();
      return absl::OkStatus();
    case wf::ListRunsRequest::kTaskName: {
      const auto& t = req.task_name();
      if (t.project().empty()) return absl::InvalidArgumentError("task_name.project is required");
      if (t.domain().empty()) return absl::InvalidArgumentError("task_name.domain is required");
      if (t.name().empty()) return absl::InvalidArgumentError("task_name.name is required");
      q->org = OrgOrDefault(t.org());
      q->project = t.project();
      q->domain = t.domain();
      q->filters.push_back({Field::kTaskName, FilterOp::kEqual, {t.name()}});
      return absl::OkStatus();
    }
    case wf::ListRunsRequest::kTaskId: {
      absl::StatusOr<TaskKey> k = ToTaskKey(req.task_id(), "task_id");
      if (!k.ok()) return k.status();
      q->org = k->org;
      q->project = k->project;
      q->domain = k->domain;
      q->filters.push_back({Field::kTaskName, FilterOp::kEqual, {k->name}});
      q->filters.push_back({Field::kTaskVersion, FilterOp::kEqual, {k->version}});
      return absl::OkStatus();
    }
    case wf::ListRunsRequest::kTriggerName:
      return absl::InvalidArgumentError("trigger_name scope is not supported");
    default:
      return absl::InvalidArgumentError("org, project_id, task_name or task_id is required");
  }
}

}  // namespace

void RunServiceApi::Register(rpc::Router& router) {
  router.Unary<wf::CreateRunRequest, wf::CreateRunResponse>(
      kService, "CreateRun", [this](const rpc::CallContext&, const wf::CreateRunRequest& req, wf::CreateRunResponse* resp) {
        absl::StatusOr<CreateRunParams> p = ToCreateRunParams(req);
        if (!p.ok()) return p.status();
        if (req.task_case() == wf::CreateRunRequest::kTriggerName) {
          // A trigger fired on demand: its task version, the caller's inputs and run spec, the trigger recorded.
          if (triggers_ == nullptr) return absl::InvalidArgumentError("trigger_name is not supported here");
          absl::StatusOr<TriggerKey> key = ToTriggerKey(req.trigger_name(), "trigger_name");
          if (!key.ok()) return key.status();
          absl::StatusOr<Trigger> trigger = triggers_->Get(*key);
          if (!trigger.ok()) return trigger.status();
          p->task_id = TaskKey{key->org, key->project, key->domain, key->task_name, trigger->task_version};
          p->metadata = WithTrigger(p->metadata, *trigger);
        }
        absl::StatusOr<Action> root = runs_.CreateRun(*p);
        if (!root.ok()) return root.status();
        ToRun(*root, resp->mutable_run());
        return absl::OkStatus();
      });

  router.Unary<wf::AbortRunRequest, wf::AbortRunResponse>(
      kService, "AbortRun", [this](const rpc::CallContext&, const wf::AbortRunRequest& req, wf::AbortRunResponse*) {
        absl::StatusOr<RunKey> key = ToRunKey(req.run_id(), "run_id");
        if (!key.ok()) return key.status();
        return runs_.AbortRun(*key, req.has_reason() ? req.reason() : "aborted by user");
      });

  router.Unary<wf::GetRunDetailsRequest, wf::GetRunDetailsResponse>(
      kService, "GetRunDetails",
      [this](const rpc::CallContext&, const wf::GetRunDetailsRequest& req, wf::GetRunDetailsResponse* resp) {
        absl::StatusOr<RunKey> key = ToRunKey(req.run_id(), "run_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<ActionWithAttempts> root = runs_.GetRunDetails(*key);
        if (!root.ok()) return root.status();
        ToRunDetails(*root, resp->mutable_details());
        return absl::OkStatus();
      });

  router.ServerStreaming<wf::WatchRunDetailsRequest, wf::WatchRunDetailsResponse>(
      kService, "WatchRunDetails",
      [this](const rpc::CallContext&, const wf::WatchRunDetailsRequest& req,
             rpc::ServerStream<wf::WatchRunDetailsResponse> stream) {
        absl::StatusOr<RunKey> key = ToRunKey(req.run_id(), "run_id");
        if (!key.ok()) return stream.Finish(key.status());
        KeepWatchUntilDone(stream, runs_.WatchRunDetails(
                                       *key,
                                       [stream](const ActionWithAttempts& a) {
                                         wf::WatchRunDetailsResponse resp;
                                         ToRunDetails(a, resp.mutable_details());
                                         return stream.Send(resp);
                                       },
                                       WatchEnd{[stream](const absl::Status& s) { stream.Finish(s); }}));
      });

  router.Unary<wf::GetActionDetailsRequest, wf::GetActionDetailsResponse>(
      kService, "GetActionDetails",
      [this](const rpc::CallContext&, const wf::GetActionDetailsRequest& req, wf::GetActionDetailsResponse* resp) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<ActionWithAttempts> a = runs_.GetActionDetails(*key);
        if (!a.ok()) return a.status();
        ToActionDetails(*a, resp->mutable_details());
        return absl::OkStatus();
      });

  router.ServerStreaming<wf::WatchActionDetailsRequest, wf::WatchActionDetailsResponse>(
      kService, "WatchActionDetails",
      [this](const rpc::CallContext&, const wf::WatchActionDetailsRequest& req,
             rpc::ServerStream<wf::WatchActionDetailsResponse> stream) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return stream.Finish(key.status());
        KeepWatchUntilDone(stream, runs_.WatchActionDetails(
                                       *key,
                                       [stream](const ActionWithAttempts& a) {
                                         wf::WatchActionDetailsResponse resp;
                                         ToActionDetails(a, resp.mutable_details());
                                         return stream.Send(resp);
                                       },
                                       WatchEnd{[stream](const absl::Status& s) { stream.Finish(s); }}));
      });

  router.Unary<wf::GetActionDataRequest, wf::GetActionDataResponse>(
      kService, "GetActionData",
      [this](const rpc::CallContext&, const wf::GetActionDataRequest& req, wf::GetActionDataResponse* resp) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return key.status();
        absl::StatusOr<ActionData> data = runs_.GetActionData(*key);
        if (!data.ok()) return data.status();
        if (!data->inputs.empty() && !resp->mutable_inputs()->ParseFromString(data->inputs)) resp->clear_inputs();
        if (!data->outputs.empty() && !resp->mutable_outputs()->ParseFromString(data->outputs)) {
          resp->clear_outputs();
        }
        return absl::OkStatus();
      });

  router.Unary<wf::ListRunsRequest, wf::ListRunsResponse>(
      kService, "ListRuns", [this](const rpc::CallContext&, const wf::ListRunsRequest& req, wf::ListRunsResponse* resp) {
        ListQuery q;
        if (absl::Status s = ApplyRunsScope(req, &q); !s.ok()) return s;
        if (absl::Status s = ApplyListRequest(req.request(), RunListFields(), "request", &q); !s.ok()) return s;
        absl::StatusOr<Page<Action>> page = runs_.ListRuns(q);
        if (!page.ok()) return page.status();
        for (const Action& a : page->items) ToRun(a, resp->add_runs());
        resp->set_token(NextToken(page->next_offset));
        return absl::OkStatus();
      });

  router.ServerStreaming<wf::WatchRunsRequest, wf::WatchRunsResponse>(
      kService, "WatchRuns",
      [this](const rpc::CallContext&, const wf::WatchRunsRequest& req, rpc::ServerStream<wf::WatchRunsResponse> stream) {
        RunUseCases::RunsScope scope;
        switch (req.target_case()) {
          case wf::WatchRunsRequest::kOrg:
            scope.org = OrgOrDefault(req.org());
            break;
          case wf::WatchRunsRequest::kClusterId:
            scope.org = OrgOrDefault(req.cluster_id().organization());  // one cluster here: the whole org
            break;
          case wf::WatchRunsRequest::kProjectId:
            if (req.project_id().name().empty()) {
              return stream.Finish(absl::InvalidArgumentError("project_id.name is required"));
            }
            if (req.project_id().domain().empty()) {
              return stream.Finish(absl::InvalidArgumentError("project_id.domain is required"));
            }
            scope.org = OrgOrDefault(req.project_id().organization());
            scope.project = req.project_id().name();
            scope.domain = req.project_id().domain();
            break;
          case wf::WatchRunsRequest::kTaskId: {
            absl::StatusOr<TaskKey> k = ToTaskKey(req.task_id(), "task_id", false);
            if (!k.ok()) return stream.Finish(k.status());
            scope.org = k->org;
            scope.project = k->project;
            scope.domain = k->domain;
            scope.task = *k;
            break;
          }
          default:
            return stream.Finish(absl::InvalidArgumentError("org, cluster_id, project_id or task_id is required"));
        }
        KeepWatchUntilDone(stream, runs_.WatchRuns(scope, [stream](const std::vector<Action>& runs) {
          wf::WatchRunsResponse resp;
          for (const Action& a : runs) ToRun(a, resp.add_runs());
          return stream.Send(resp);
        }));
      });

  router.Unary<wf::ListActionsRequest, wf::ListActionsResponse>(
      kService, "ListActions",
      [this](const rpc::CallContext&, const wf::ListActionsRequest& req, wf::ListActionsResponse* resp) {
        absl::StatusOr<RunKey> run = ToRunKey(req.run_id(), "run_id");
        if (!run.ok()) return run.status();
        ListQuery q;
        q.org = run->org;
        q.project = run->project;
        q.domain = run->domain;
        q.run_name = run->name;
        if (absl::Status s = ApplyListRequest(req.request(), ActionListFields(), "request", &q); !s.ok()) return s;
        absl::StatusOr<Page<Action>> page = runs_.ListActions(q);
        if (!page.ok()) return page.status();
        for (const Action& a : page->items) ToAction(a, resp->add_actions());
        resp->set_token(NextToken(page->next_offset));
        return absl::OkStatus();
      });

  router.ServerStreaming<wf::WatchActionsRequest, wf::WatchActionsResponse>(
      kService, "WatchActions",
      [this](const rpc::CallContext&, const wf::WatchActionsRequest& req,
             rpc::ServerStream<wf::WatchActionsResponse> stream) {
        absl::StatusOr<RunKey> run = ToRunKey(req.run_id(), "run_id");
        if (!run.ok()) return stream.Finish(run.status());
        std::vector<Filter> filters;
        for (int i = 0; i < req.filter_size(); ++i) {
          const std::string path = "filter[" + std::to_string(i) + "]";
          absl::StatusOr<Filter> f = ToFilter(req.filter(i), ActionListFields(), path);
          if (!f.ok()) return stream.Finish(f.status());
          filters.push_back(std::move(*f));
        }
        if (absl::Status s = CheckWatchActionsFilters(filters); !s.ok()) return stream.Finish(s);
        KeepWatchUntilDone(stream, runs_.WatchActions(*run, std::move(filters),
                                                      [stream](const std::vector<EnrichedActionView>& batch) {
                                                        wf::WatchActionsResponse resp;
                                                        for (const auto& a : batch) {
                                                          ToEnrichedAction(a, resp.add_enriched_actions());
                                                        }
                                                        return stream.Send(resp);
                                                      }));
      });

  router.ServerStreaming<wf::WatchClusterEventsRequest, wf::WatchClusterEventsResponse>(
      kService, "WatchClusterEvents",
      [this](const rpc::CallContext&, const wf::WatchClusterEventsRequest& req,
             rpc::ServerStream<wf::WatchClusterEventsResponse> stream) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.id(), "id");
        if (!key.ok()) return stream.Finish(key.status());
        const uint32_t attempt = req.attempt() == 0 ? 1 : req.attempt();
        KeepWatchUntilDone(stream, runs_.WatchClusterEvents(
                                       *key, attempt,
                                       [stream](const std::vector<ClusterEvent>& events) {
                                         wf::WatchClusterEventsResponse resp;
                                         for (const auto& e : events) ToClusterEvent(e, resp.add_cluster_events());
                                         return stream.Send(resp);
                                       },
                                       WatchEnd{[stream](const absl::Status& s) { stream.Finish(s); }}));
      });

  router.Unary<wf::AbortActionRequest, wf::AbortActionResponse>(
      kService, "AbortAction",
      [this](const rpc::CallContext&, const wf::AbortActionRequest& req, wf::AbortActionResponse*) {
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return key.status();
        return runs_.AbortAction(*key, req.reason().empty() ? "aborted by user" : req.reason());
      });
}

}  // namespace flyte::runs::api
