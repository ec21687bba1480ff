#pragma once
// flyte.internal.state.v1.StateReportService adapter: the executors' batched state reports. Each report is what
// StateService.Put carries (the event in binary instead of JSON) and gets its own in-band google.rpc.Status; the
// call itself fails only when the batch cannot be applied at all (database unavailable) or is malformed.
// Thread-safe.
#include "flyte/rpc/router.h"
#include "service/state_use_cases.h"

namespace flyte::runs::api {

class StateReportApi {
 public:
  explicit StateReportApi(StateUseCases& state) : state_(state) {}
  void Register(rpc::Router& router);

 private:
  StateUseCases& state_;
};

}  // namespace flyte::runs::api
