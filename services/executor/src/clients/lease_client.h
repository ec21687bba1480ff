#pragma once
// Port to queue-service's lease API (flyte.internal.queue.v1.LeaseService): how this executor takes queued actions
// and keeps them. The executor id is fixed when the client is built; every call speaks for it.
//
// Thread-safe. Calls block the calling thread (Acquire up to its wait); never called from gRPC threads.
// Errors: kUnavailable / kDeadlineExceeded when queue-service cannot be reached (retry later); kFailedPrecondition
// from Complete/Release when the lease is no longer held by this executor (it expired: stop caring about it).
#include <chrono>
#include <functional>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/action.h"

namespace flyte::executor {

// One action handed to this executor for a limited time.
struct Lease {
  std::string id;
  ActionToRun action;                 // decoded from the EnqueueActionRequest (attempt left at 1)
  std::string decode_error;           // non-empty: the action could not be decoded (no usable identifier)
  common::TimePoint expires_at{};     // renew with Heartbeat before this
  uint32_t delivery = 1;              // 1 on first hand-out, +1 each time it was handed out again
  common::TimePoint enqueued_at{};    // when queue-service first queued it; epoch (0) if the server did not say
  bool abort_requested = false;
  std::string abort_reason;
};

struct LeaseRenewal {
  std::string id;
  common::TimePoint expires_at{};
  bool abort_requested = false;
  std::string abort_reason;
};

// One Complete of a batch.
struct Completion {
  std::string lease_id;
  Phase final_phase = Phase::kUnspecified;
};

struct HeartbeatResult {
  std::vector<LeaseRenewal> renewed;
  std::vector<std::string> lost;  // expired or reassigned: stop that work at once, never Complete it
};

// An abort queue-service pushed for a lease this executor holds.
struct AbortPush {
  std::string lease_id;
  std::string reason;
};

class LeaseClient {
 public:
  virtual ~LeaseClient() = default;
  // Up to `max` leases; waits up to `wait` for work when none is ready (long-poll). Empty when nothing came.
  virtual absl::StatusOr<std::vector<Lease>> Acquire(uint32_t max, std::chrono::milliseconds wait) = 0;
  virtual absl::StatusOr<HeartbeatResult> Heartbeat(const std::vector<std::string>& lease_ids) = 0;
  // The action ended in `final_phase` and its final state is recorded: the queue forgets it.
  virtual absl::Status Complete(const std::string& lease_id, Phase final_phase) = 0;
  // Several Completes, one outcome each (same order, as Complete's). A failed call (transport trouble, the queue's
  // database away) completed none of them and may be retried whole. This default sends one Complete per lease.
  virtual absl::StatusOr<std::vector<absl::Status>> CompleteBatch(const std::vector<Completion>& completions) {
    std::vector<absl::Status> out;
    out.reserve(completions.size());
    for (const Completion& c : completions) out.push_back(Complete(c.lease_id, c.final_phase));
    return out;
  }
  // Gives the lease back unfinished (shutdown, or a lease found in the journal after a restart).
  virtual absl::Status Release(const std::string& lease_id) = 0;
  virtual const std::string& executor_id() const = 0;
  // Ends a blocked Acquire early (it returns kCancelled or empty). For shutdown; any thread.
  virtual void CancelAcquire() {}
  // Blocks while queue-service's abort stream (LeaseService.WatchAborts) is open: `on_live` once it is, then
  // `on_abort` for every abort pushed, both on the calling thread. Returns how it ended: kUnimplemented when the
  // server has no such stream (this default too), kCancelled after CancelWatchAborts, a transport error otherwise.
  virtual absl::Status WatchAborts(const std::function<void()>& on_live,
                                   const std::function<void(const AbortPush&)>& on_abort) {
    (void)on_live;
    (void)on_abort;
    return absl::UnimplementedError("this lease client has no abort stream");
  }
  // Ends WatchAborts (now and for good). For shutdown; any thread.
  virtual void CancelWatchAborts() {}
};

}  // namespace flyte::executor
