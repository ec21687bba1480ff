#pragma once
// flyteidl2.workflow.RunService adapter: decode/validate -> one RunUseCases call -> status. Registered on an
// rpc::Router; handlers run on the router's work pool. Thread-safe; borrows the use cases.
// Not implemented here (UNIMPLEMENTED from the transport): SignalEvent, WatchGroups, GetActionDataURIs,
// GetActionLogContext.
#include "flyte/rpc/router.h"
#include "service/run_use_cases.h"
#include "service/trigger_use_cases.h"

namespace flyte::runs::api {

class RunServiceApi {
 public:
  // `triggers`: resolves CreateRun's `trigger_name` (a trigger fired on demand); nullptr = such a request is
  // INVALID_ARGUMENT.
  explicit RunServiceApi(RunUseCases& runs, TriggerUseCases* triggers = nullptr) : runs_(runs), triggers_(triggers) {}
  void Register(rpc::Router& router);

 private:
  RunUseCases& runs_;
  TriggerUseCases* triggers_;
};

}  // namespace flyte::runs::api
