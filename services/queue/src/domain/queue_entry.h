#pragma once
// Plain types of the queue: what is queued (QueueEntry), how it is addressed (ActionKey/RunKey) and the rules an
// enqueue must satisfy. No protobuf, no SQL.
//
// Life of an entry:  READY --Acquire--> LEASED --Complete--> DONE
//                      ^                  |  \--Release--> READY
//                      +--lease expired---+   (handed out again by a later Acquire, delivery_count + 1)
// Abort: a READY entry becomes DONE at once; a LEASED one keeps running with abort_requested set until its executor
// sees the flag (Heartbeat) and Completes it. DONE rows are deleted after a retention period.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "flyte/common/clock.h"

namespace flyte::queue {

using common::TimePoint;

struct RunKey {
  std::string org;
  std::string project;
  std::string domain;
  std::string name;

  bool operator==(const RunKey& o) const {
    return org == o.org && project == o.project && domain == o.domain && name == o.name;
  }
};

struct ActionKey {
  RunKey run;
  std::string name;

  bool operator==(const ActionKey& o) const { return run == o.run && name == o.name; }
  // "org/project/domain/run/action", for messages and logs.
  std::string ToString() const;
};

enum class EntryState : int { kReady = 0, kLeased = 1, kDone = 2 };
std::string_view EntryStateName(EntryState s);  // "READY", "LEASED", "DONE"

// Which spec an enqueued action carries (the oneof of EnqueueActionRequest).
enum class SpecKind { kNone, kTask, kTrace, kCondition };

// What Enqueue stores.
struct NewEntry {
  ActionKey key;
  std::optional<std::string> parent;  // parent action name within the same run
  std::string payload;                // serialized EnqueueActionRequest, verbatim
  SpecKind spec = SpecKind::kNone;
  // Read from the request for display (TaskAction spec fields, printer columns); the payload stays the truth.
  std::string task_type;
  std::string short_name;
  std::string input_uri;
  std::string run_output_base;
  std::string group;
};

struct QueueEntry {
  int64_t id = 0;  // FIFO order within one database
  ActionKey key;
  std::optional<std::string> parent;
  std::string payload;
  EntryState state = EntryState::kReady;
  std::string lease_id;     // "" unless leased (kept after DONE for diagnosis)
  std::string lease_owner;  // executor id
  std::optional<TimePoint> lease_expires_at;
  uint32_t delivery_count = 0;  // number of times handed out
  bool abort_requested = false;
  std::string abort_reason;
  TimePoint enqueued_at;
  TimePoint updated_at;
};

// Rules for an enqueue: every key part present and a spec given. kInvalidArgument naming the request field
// ("action_id.run.org is required", "one of task, trace, condition is required").
absl::Status ValidateNewEntry(const NewEntry& entry);
// kInvalidArgument naming `field` + ".org" etc. when a part is empty.
absl::Status ValidateRunKey(const RunKey& key, std::string_view field);
absl::Status ValidateActionKey(const ActionKey& key, std::string_view field);
// Executor ids are required and bounded (they are stored per lease).
absl::Status ValidateExecutorId(std::string_view executor_id);

}  // namespace flyte::queue
