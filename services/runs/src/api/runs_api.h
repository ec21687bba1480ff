#pragma once
// Everything of runs-service between the Store and the Router, built in one call (for setup.cc and tests):
//   auto api = BuildRunsApi(store, clock, options);   // installs the change listener on store.Actions()
//   api->Register(router);                              // RunService, TaskService, StateService, QueueService,
//                                                       // TriggerService and the executors' StateReportService
//   ... serve ...
//   api->Shutdown();                                    // before the store goes away (also done by ~RunsApi)
// Ownership: borrows store, clock, options.queue and options.projects (all must outlive the RunsApi). Thread-safe after Register.
#include <memory>

#include "api/run_service_api.h"
#include "api/state_report_api.h"
#include "api/state_service_api.h"
#include "api/task_service_api.h"
#include "api/trigger_codec.h"
#include "api/trigger_service_api.h"
#include "api/queue_service_api.h"
#include "flyte/common/clock.h"
#include "flyte/rpc/router.h"
#include "repository/action_repository.h"
#include "service/change_dispatcher.h"
#include "service/run_use_cases.h"
#include "service/state_use_cases.h"
#include "service/task_use_cases.h"

namespace flyte::runs {

struct RunsApiOptions {
  RunUseCasesOptions runs;       // storage_prefix for run data
  // optional; nullptr = nothing is forwarded to queue-service (and QueueService.EnqueueAction answers
  // FAILED_PRECONDITION). The dispatcher must be started by the caller.
  QueueDispatcher* queue = nullptr;
  // optional; when set, CreateRun and DeployTask in an unknown project or domain answer NOT_FOUND.
  ProjectUseCases* projects = nullptr;
};

class RunsApi {
 public:
  RunsApi(Store& store, common::Clock& clock, RunsApiOptions options);
  ~RunsApi();
  RunsApi(const RunsApi&) = delete;
  RunsApi& operator=(const RunsApi&) = delete;

  void Register(rpc::Router& router);
  // Stops the change dispatcher (live watch events stop; open streams are finished by the server's shutdown).
  void Shutdown();

  ChangeDispatcher& changes() { return *changes_; }
  RunUseCases& runs() { return *runs_; }
  TaskUseCases& tasks() { return *tasks_; }
  StateUseCases& state() { return *state_; }
  TriggerUseCases& triggers() { return *triggers_; }
  TriggerCodec& trigger_codec() { return *trigger_codec_; }

 private:
  std::unique_ptr<ChangeDispatcher> changes_;
  std::unique_ptr<RunUseCases> runs_;
  std::unique_ptr<TaskUseCases> tasks_;
  std::unique_ptr<StateUseCases> state_;
  std::unique_ptr<api::ProtoTriggerCodec> trigger_codec_;
  std::unique_ptr<TriggerUseCases> triggers_;
  std::unique_ptr<api::RunServiceApi> run_api_;
  std::unique_ptr<api::TaskServiceApi> task_api_;
  std::unique_ptr<api::StateServiceApi> state_api_;
  std::unique_ptr<api::StateReportApi> state_report_api_;
  std::unique_ptr<api::QueueServiceApi> queue_api_;
  std::unique_ptr<api::TriggerServiceApi> trigger_api_;
};

std::unique_ptr<RunsApi> BuildRunsApi(Store& store, common::Clock& clock, RunsApiOptions options = {});

}  // namespace flyte::runs
