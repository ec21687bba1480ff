#pragma once
// Port to queue-service (flyteidl2.workflow.QueueService). The QueueDispatcher calls it for each command of the
// queue outbox; a failure leaves the command in the outbox, to be sent again.
// Implementations must be thread-safe. Errors: what queue-service answered (kInvalidArgument naming the field,
// kNotFound for an abort of an action never enqueued) or a transport error (kUnavailable, kDeadlineExceeded, ...).
#include <string>

#include "absl/status/status.h"
#include "domain/action.h"

namespace flyte::runs {

class QueueClient {
 public:
  virtual ~QueueClient() = default;
  // Enqueues an action built from what runs-service stored (a run's root action): action id, parent, run spec
  // (run_start_time = created_at when the client left it out), input uri, run output base, group, task {id, spec}.
  // Idempotent on the queue side.
  virtual absl::Status EnqueueAction(const Action& action) = 0;
  // Forwards a serialized flyteidl2.workflow.EnqueueActionRequest verbatim (a child a task enqueued here).
  virtual absl::Status EnqueueRequest(const std::string& serialized_request) = 0;
  virtual absl::Status AbortRun(const RunKey& run, const std::string& reason) = 0;
  // The action and its descendants; kNotFound if queue-service never saw the action.
  virtual absl::Status AbortAction(const ActionKey& action, const std::string& reason) = 0;
};

}  // namespace flyte::runs
