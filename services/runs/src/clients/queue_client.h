#pragma once
// Port to the queue-service (a later milestone). The runs use cases call it after a change is committed when one
// is configured; a failure is logged and does not undo the committed change (the queue reconciles later).
// Implementations must be thread-safe.
#include <string>

#include "absl/status/status.h"
#include "domain/action.h"

namespace flyte::runs {

class QueueClient {
 public:
  virtual ~QueueClient() = default;
  // A new run's root action is ready to execute.
  virtual absl::Status EnqueueRun(const Action& root) = 0;
  virtual absl::Status AbortRun(const RunKey& run, const std::string& reason) = 0;
  virtual absl::Status AbortAction(const ActionKey& action, const std::string& reason) = 0;
};

}  // namespace flyte::runs
