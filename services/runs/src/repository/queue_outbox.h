#pragma once
// Transactional outbox towards queue-service. A change queue-service must hear about (an action to enqueue, an
// abort) is recorded as a QueueCommand in the same transaction as the change itself (ActionRepository's
// *AndRecord methods), so a committed run is never left without its enqueue, whatever crashes afterwards. The
// QueueDispatcher claims due commands, sends them and deletes them once queue-service acknowledged them.
//
// Thread-safe. Never throws. kUnavailable = database unreachable; kInternal = anything unexpected.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"

namespace flyte::runs {

enum class QueueCommandKind : int { kEnqueue = 1, kAbortRun = 2, kAbortAction = 3 };

struct QueueCommand {
  int64_t id = 0;  // assigned when recorded
  QueueCommandKind kind = QueueCommandKind::kEnqueue;
  ActionKey key;        // the action (kAbortRun: the run's root action)
  std::string reason;   // aborts
  // kEnqueue: serialized flyteidl2.workflow.EnqueueActionRequest to forward verbatim (a child enqueued by a task);
  // "" = build the request from the stored action (a run's root action).
  std::string request;
  uint32_t attempts = 0;  // failed sends so far
};

class QueueOutbox {
 public:
  virtual ~QueueOutbox() = default;
  // Claims up to `limit` commands that are due (next attempt <= now) and not claimed by a live claim, oldest first,
  // until now + claim_for. On PostgreSQL concurrent claimers skip each other's rows (FOR UPDATE SKIP LOCKED).
  virtual absl::StatusOr<std::vector<QueueCommand>> Claim(size_t limit, TimePoint now,
                                                          std::chrono::microseconds claim_for) = 0;
  // Acknowledged (or given up): the commands are deleted, in one transaction. Deleting a missing id is OK.
  virtual absl::Status Done(const std::vector<int64_t>& ids) = 0;
  // Not delivered: released, attempts + 1, due again at `next_attempt_at` (one transaction).
  virtual absl::Status Retry(const std::vector<int64_t>& ids, TimePoint next_attempt_at, const std::string& error) = 0;
  // Releases every claim (a single-process store at start: claims of a previous incarnation are void).
  virtual absl::Status ReleaseClaims() = 0;
  // Commands not yet delivered (for tests and metrics).
  virtual absl::StatusOr<int64_t> Count() = 0;
};

}  // namespace flyte::runs
