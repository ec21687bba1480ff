#include "api/runs_api.h"

#include "api/converters.h"

namespace flyte::runs {

namespace {

RunUseCasesOptions WithProvenance(RunUseCasesOptions options) {
  options.record_recovered_from = api::WithRecoveredFrom;
  return options;
}

}  // namespace

RunsApi::RunsApi(Store& store, common::Clock& clock, RunsApiOptions options)
    : changes_(std::make_unique<ChangeDispatcher>(store.Actions())),
      runs_(std::make_unique<RunUseCases>(store, *changes_, clock, WithProvenance(options.runs), options.queue,
                                          options.projects)),
      tasks_(std::make_unique<TaskUseCases>(store, clock, options.runs.storage_prefix, options.projects)),
      state_(std::make_unique<StateUseCases>(store, *changes_, clock)),
      trigger_codec_(std::make_unique<api::ProtoTriggerCodec>()),
      triggers_(std::make_unique<TriggerUseCases>(store.Triggers(), *trigger_codec_, clock)),
      run_api_(std::make_unique<api::RunServiceApi>(*runs_, triggers_.get())),
      task_api_(std::make_unique<api::TaskServiceApi>(*tasks_, *triggers_)),
      state_api_(std::make_unique<api::StateServiceApi>(*state_)),
      state_report_api_(std::make_unique<api::StateReportApi>(*state_)),
      queue_api_(std::make_unique<api::QueueServiceApi>(*runs_, *state_)),
      trigger_api_(std::make_unique<api::TriggerServiceApi>(*triggers_)) {}

RunsApi::~RunsApi() { Shutdown(); }

void RunsApi::Register(rpc::Router& router) {
  run_api_->Register(router);
  task_api_->Register(router);
  state_api_->Register(router);
  state_report_api_->Register(router);
  queue_api_->Register(router);
  trigger_api_->Register(router);
}

void RunsApi::Shutdown() { changes_->Shutdown(); }

std::unique_ptr<RunsApi> BuildRunsApi(Store& store, common::Clock& clock, RunsApiOptions options) {
  return std::make_unique<RunsApi>(store, clock, std::move(options));
}

}  // namespace flyte::runs
