#pragma once
// flyteidl2.workflow.RunService adapter: decode/validate -> one RunUseCases call -> status. Registered on an
// rpc::Router; handlers run on the router's work pool. Thread-safe; borrows the use cases.
// Not implemented here (UNIMPLEMENTED from the transport): SignalEvent, WatchGroups, GetActionDataURIs,
// GetActionLogContext.
#include "flyte/rpc/router.h"
#include "service/run_use_cases.h"

namespace flyte::runs::api {

class RunServiceApi {
 public:
  explicit RunServiceApi(RunUseCases& runs) : runs_(runs) {}
  void Register(rpc::Router& router);

 private:
  RunUseCases& runs_;
};

}  // namespace flyte::runs::api
