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
#include <vector>

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
  // Several reports in order, one outcome each (as Put's). A failed call (transport trouble) applied none of them
  // and may be retried whole. This default sends one Put per report.
  virtual absl::StatusOr<std::vector<absl::Status>> PutBatch(const std::vector<StateReport>& reports) {
    std::vector<absl::Status> out;
    for (const StateReport& r : reports) {
      absl::Status s = out.empty() || !IsTransportTrouble(out.back()) ? Put(r) : out.back();
      out.push_back(s);  // after transport trouble the rest are not sent (they would land out of order)
    }
    return out;
  }

  // Whether a Put outcome is transport trouble worth retrying (runs-service down, overloaded, timed out) rather
  // than an answer (recorded, or refused: retrying cannot help).
  static bool IsTransportTrouble(const absl::Status& s) {
    switch (s.code()) {
      case absl::StatusCode::kOk:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kAlreadyExists:
      case absl::StatusCode::kOutOfRange:
      case absl::StatusCode::kPermissionDenied:
      case absl::StatusCode::kUnauthenticated:
      case absl::StatusCode::kUnimplemented:
        return false;
      default:  // kUnavailable, kDeadlineExceeded, kResourceExhausted, kInternal, kUnknown, kAborted, kCancelled...
        return true;
    }
  }
  // kNotFound when runs-service has no such action.
  virtual absl::StatusOr<RecordedState> Get(const ActionKey& key) = 0;
};

}  // namespace flyte::executor
