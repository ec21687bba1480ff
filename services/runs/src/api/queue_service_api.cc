#include "domain/naming.h"
#include "api/queue_service_api.h"

#include "api/converters.h"
#include "flyteidl2/workflow/queue_service.pb.h"

namespace flyte::runs::api {
namespace {
namespace wf = flyteidl2::workflow;
constexpr char kService[] = "flyteidl2.workflow.QueueService";

// RunSpec.overwrite_cache is deprecated upstream in favour of cache_config.overwrite_cache; SDKs send both.
bool OverwriteCache(const flyteidl2::task::RunSpec& spec) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return spec.overwrite_cache() || spec.cache_config().overwrite_cache();
#pragma GCC diagnostic pop
}

// The child as runs-service lists it; the request itself is forwarded verbatim, so nothing is lost here.
absl::StatusOr<Action> ToChildAction(const wf::EnqueueActionRequest& req) {
  if (!req.has_action_id()) return absl::InvalidArgumentError("action_id is required");
  absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
  if (!key.ok()) return key.status();
  Action a;
  a.key = *key;
  if (req.has_parent_action_name() && !req.parent_action_name().empty()) a.parent = req.parent_action_name();
  a.group = req.group();
  a.input_uri = req.input_uri();
  a.run_output_base = req.run_output_base();
  if (req.has_run_spec()) req.run_spec().SerializeToString(&a.run_spec);
  switch (req.spec_case()) {
    case wf::EnqueueActionRequest::kTask: {
      const wf::TaskAction& t = req.task();
      a.type = ActionType::kTask;
      a.task_org = OrgOrDefault(t.id().org());
      a.task_project = t.id().project();
      a.task_domain = t.id().domain();
      a.task_name = t.id().name();
      a.task_version = t.id().version();
      if (t.has_spec()) {
        t.spec().SerializeToString(&a.task_spec);
        a.task_type = t.spec().task_template().type();
        a.short_name = t.spec().short_name().empty() ? t.id().name() : t.spec().short_name();
        a.environment = t.spec().environment().name();
      }
      break;
    }
    case wf::EnqueueActionRequest::kTrace:
      a.type = ActionType::kTrace;
      a.short_name = req.trace().name();
      if (req.trace().has_spec()) req.trace().spec().SerializeToString(&a.trace_spec);
      break;
    case wf::EnqueueActionRequest::kCondition:
      a.type = ActionType::kCondition;
      a.short_name = req.condition().name();
      req.condition().SerializeToString(&a.condition_spec);
      break;
    default:
      return absl::InvalidArgumentError("one of task, trace, condition is required");
  }
  return a;
}

}  // namespace

void QueueServiceApi::Register(rpc::Router& router) {
  router.Unary<wf::EnqueueActionRequest, wf::EnqueueActionResponse>(
      kService, "EnqueueAction",
      [this](const rpc::CallContext&, const wf::EnqueueActionRequest& req, wf::EnqueueActionResponse*) {
        absl::StatusOr<Action> child = ToChildAction(req);
        if (!child.ok()) return child.status();
        // A trace already ran inside the task that reports it: it is recorded, never queued.
        if (req.has_trace()) {
          absl::StatusOr<TraceOutcome> outcome = ToTraceOutcome(req.trace(), "trace");
          if (!outcome.ok()) return outcome.status();
          return state_.RecordTrace(*std::move(child), *outcome);
        }
        if (req.has_task() && !req.has_run_spec()) {
          // The SDK sends no run spec with a child: the run's cache settings (overwrite_cache, lookup scope) come
          // from the root's, so a run started with overwrite_cache=True re-runs its cached children too.
          // (A missing run is reported by EnqueueAction below.)
          absl::StatusOr<std::string> spec = runs_.RunSpecOf(child->key.run);
          flyteidl2::task::RunSpec root;
          if (spec.ok() && !spec->empty() && root.ParseFromString(*spec) &&
              (OverwriteCache(root) ||
               root.cache_config().cache_lookup_scope() == flyteidl2::task::CACHE_LOOKUP_SCOPE_PROJECT_DOMAIN)) {
            wf::EnqueueActionRequest with_cache = req;
            *with_cache.mutable_run_spec()->mutable_cache_config() = root.cache_config();
            with_cache.mutable_run_spec()->mutable_cache_config()->set_overwrite_cache(OverwriteCache(root));
            with_cache.run_spec().SerializeToString(&child->run_spec);
            return runs_.EnqueueAction(*std::move(child), with_cache.SerializeAsString());
          }
        }
        return runs_.EnqueueAction(*std::move(child), req.SerializeAsString());
      });

  router.Unary<wf::AbortQueuedRunRequest, wf::AbortQueuedRunResponse>(
      kService, "AbortQueuedRun",
      [this](const rpc::CallContext&, const wf::AbortQueuedRunRequest& req, wf::AbortQueuedRunResponse*) {
        if (!req.has_run_id()) return absl::InvalidArgumentError("run_id is required");
        absl::StatusOr<RunKey> run = ToRunKey(req.run_id(), "run_id");
        if (!run.ok()) return run.status();
        return runs_.AbortRun(*run, req.has_reason() ? req.reason() : "aborted");
      });

  router.Unary<wf::AbortQueuedActionRequest, wf::AbortQueuedActionResponse>(
      kService, "AbortQueuedAction",
      [this](const rpc::CallContext&, const wf::AbortQueuedActionRequest& req, wf::AbortQueuedActionResponse*) {
        if (!req.has_action_id()) return absl::InvalidArgumentError("action_id is required");
        absl::StatusOr<ActionKey> key = ToActionKey(req.action_id(), "action_id");
        if (!key.ok()) return key.status();
        return runs_.AbortAction(*key, req.has_reason() ? req.reason() : "aborted");
      });
}

}  // namespace flyte::runs::api
