#pragma once
// flyteidl2.workflow.QueueService served by runs-service, so a running task talks to ONE endpoint (the SDK has a
// single endpoint setting): EnqueueAction records the child action in the runs database and forwards the request
// to queue-service through the outbox, except a trace, which already ran inside its task and is only recorded
// (StateUseCases::RecordTrace); AbortQueuedRun / AbortQueuedAction abort in the runs database (the action
// and its descendants) and forward the abort likewise. Validation errors are INVALID_ARGUMENT naming the field
// (`action_id.run.project is required`, `parent_action_name is required`, `one of task, trace, condition is
// required`). Thread-safe.
#include "flyte/rpc/router.h"
#include "service/run_use_cases.h"
#include "service/state_use_cases.h"

namespace flyte::runs::api {

class QueueServiceApi {
 public:
  QueueServiceApi(RunUseCases& runs, StateUseCases& state) : runs_(runs), state_(state) {}
  void Register(rpc::Router& router);

 private:
  RunUseCases& runs_;
  StateUseCases& state_;
};

}  // namespace flyte::runs::api
