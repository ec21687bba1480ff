#pragma once
// Port to queue-service (flyteidl2.workflow.QueueService). The QueueDispatcher calls it for each command of the
// queue outbox; a failure leaves the command in the outbox, to be sent again.
// Implementations must be thread-safe. Errors: what queue-service answered (kInvalidArgument naming the field,
// kNotFound for an abort of an action never enqueued) or a transport error (kUnavailable, kDeadlineExceeded, ...).
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"

namespace flyte::runs {

// One enqueue of a batch: a serialized EnqueueActionRequest to forward verbatim when `request` is non-empty,
// else the request built from `action` (as EnqueueAction). Both borrowed for the call.
struct EnqueueItem {
  const Action* action = nullptr;
  const std::string* request = nullptr;
};

class QueueClient {
 public:
  virtual ~QueueClient() = default;
  // Enqueues an action built from what runs-service stored (a run's root action): action id, parent, run spec
  // (run_start_time = created_at when the client left it out), input uri, run output base, group, task {id, spec}.
  // Idempotent on the queue side.
  virtual absl::Status EnqueueAction(const Action& action) = 0;
  // Forwards a serialized flyteidl2.workflow.EnqueueActionRequest verbatim (a child a task enqueued here).
  virtual absl::Status EnqueueRequest(const std::string& serialized_request) = 0;
  // Several enqueues, one outcome each (same order, as EnqueueAction / EnqueueRequest would answer). A failed
  // call (transport trouble, queue-service's database away) enqueued none of them and may be retried whole.
  // This default sends one call per item and, after transport trouble, does not send the rest (each gets that
  // status), so nothing lands out of order.
  virtual absl::StatusOr<std::vector<absl::Status>> EnqueueBatch(const std::vector<EnqueueItem>& items) {
    std::vector<absl::Status> out;
    out.reserve(items.size());
    for (const EnqueueItem& item : items) {
      if (!out.empty() && IsTransportTrouble(out.back())) {
        out.push_back(out.back());
        continue;
      }
      out.push_back(item.request != nullptr && !item.request->empty() ? EnqueueRequest(*item.request)
                                                                      : EnqueueAction(*item.action));
    }
    return out;
  }
  virtual absl::Status AbortRun(const RunKey& run, const std::string& reason) = 0;
  // The action and its descendants; kNotFound if queue-service never saw the action.
  virtual absl::Status AbortAction(const ActionKey& action, const std::string& reason) = 0;

  // Whether an outcome is transport or server trouble worth retrying rather than an answer about the item (OK, or
  // refused: kInvalidArgument, kNotFound, kFailedPrecondition, kAlreadyExists; retrying cannot help those).
  static bool IsTransportTrouble(const absl::Status& s) {
    switch (s.code()) {
      case absl::StatusCode::kOk:
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kAlreadyExists:
        return false;
      default:
        return true;
    }
  }
};

}  // namespace flyte::runs
