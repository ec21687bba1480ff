#pragma once
// flyteidl2.workflow.StateService adapter. Like upstream, Put and Get answer transport OK and carry the outcome
// in-band in google.rpc.Status (INVALID_ARGUMENT for a missing action id or a state that is not the proto3 JSON
// of flyteidl2.workflow.ActionEvent; NOT_FOUND; FAILED_PRECONDITION for an illegal phase change). Only a request
// that cannot be served at all (e.g. database unavailable) fails the call itself. Watch streams the children of
// parent_action_id: existing children, ControlMessage{sentinel: true}, then live ActionUpdates. Thread-safe.
#include "flyte/rpc/router.h"
#include "service/state_use_cases.h"

namespace flyte::runs::api {

class StateServiceApi {
 public:
  explicit StateServiceApi(StateUseCases& state) : state_(state) {}
  void Register(rpc::Router& router);

 private:
  StateUseCases& state_;
};

}  // namespace flyte::runs::api
