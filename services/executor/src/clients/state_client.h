#pragma once
// Port to runs-service's flyteidl2.workflow.StateService: where the executor records every phase change of the
// actions it runs (Put) and reads back what an earlier executor recorded (Get).
//
// Thread-safe; calls block the calling thread. Errors: kUnavailable / kDeadlineExceeded (and other transport
// failures) when runs-service cannot be reached, so the caller retries. Outcomes runs-service answers in-band are
// returned as they are: kFailedPrecondition (illegal phase change), kNotFound (no such action or parent),
// kInvalidArgument (a report it cannot read); retrying those cannot help.
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/action.h"

namespace flyte::executor {

// One transition as it is sent: the runtime's ActionTransition plus what runs-service needs to create a child
// action on first sight.
struct StateReport {
  ActionTransition transition;
  std::string parent_action_name;  // empty for a run's root action
};

// What runs-service holds for an action.
struct RecordedState {
  Phase phase = Phase::kUnspecified;
  int attempt = 0;         // 0 while no attempt was reported
  std::string error_code;  // of the latest error, if any
};

class StateClient {
 public:
  virtual ~StateClient() = default;
  virtual absl::Status Put(const StateReport& report) = 0;
  // kNotFound when runs-service has no such action.
  virtual absl::StatusOr<RecordedState> Get(const ActionKey& key) = 0;
};

}  // namespace flyte::executor
