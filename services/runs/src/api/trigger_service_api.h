#pragma once
// flyteidl2.trigger.TriggerService adapter over TriggerUseCases: DeployTrigger, GetTriggerDetails,
// GetTriggerRevisionDetails (the current revision only), ListTriggers (scoped by org, project, task name or task
// version; filters and sorting are refused naming the field), UpdateTriggers (activate/deactivate), DeleteTriggers.
// GetTriggerRevisionHistory answers UNIMPLEMENTED: only the current revision is kept. Thread-safe.
#include "flyte/rpc/router.h"
#include "service/trigger_use_cases.h"

namespace flyte::runs::api {

class TriggerServiceApi {
 public:
  explicit TriggerServiceApi(TriggerUseCases& triggers) : triggers_(triggers) {}
  void Register(rpc::Router& router);

 private:
  TriggerUseCases& triggers_;
};

}  // namespace flyte::runs::api
