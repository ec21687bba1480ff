#pragma once
// Persistence port for runs and actions (a run is its root action "a0" plus the run spec it carries).
// SQLite and PostgreSQL implementations pass the one conformance suite in tests/repository_conformance_test.cc.
// Thread-safe. Never throws. Error codes: kNotFound = no such row; kAlreadyExists = key taken;
// kFailedPrecondition = illegal phase transition; kUnavailable = database unreachable (retryable);
// kInternal = anything unexpected (details logged, not returned).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "domain/list_query.h"
#include "domain/recovery.h"
#include "repository/cache_repository.h"
#include "repository/user_secret_repository.h"
#include "repository/trigger_repository.h"
#include "repository/project_repository.h"
#include "repository/queue_outbox.h"

namespace flyte::runs {

// Emitted after a change is committed (and, on PostgreSQL, by every replica's LISTEN loop).
struct ActionChange {
  ActionKey key;
  std::optional<std::string> parent;
  int64_t version = 0;
  // The action as committed, when the writer had it at hand (saves watchers a read); null otherwise (e.g. a
  // change another replica made, read from the PostgreSQL change log).
  std::shared_ptr<const Action> action;
};

struct KeyedEvent {
  ActionKey key;
  ActionEvent event;
};

class ActionRepository {
 public:
  virtual ~ActionRepository() = default;

  // Inserts a root action ("a0", no parent) for a new run. kAlreadyExists if the run name is taken.
  virtual absl::Status CreateRun(const Action& root) = 0;
  // Inserts a child action. kNotFound if the run or the parent does not exist; kAlreadyExists if taken.
  virtual absl::Status CreateAction(const Action& action) = 0;

  virtual absl::StatusOr<Action> Get(const ActionKey& key) = 0;
  virtual absl::StatusOr<ActionWithAttempts> GetWithAttempts(const ActionKey& key) = 0;
  // The actions of one run with these names, by primary key (in no particular order); names without a row are
  // left out. Cost is per name, not per sibling: for batches of a large fan-out.
  virtual absl::StatusOr<std::vector<Action>> GetMany(const RunKey& run, const std::vector<std::string>& names) = 0;
  virtual absl::StatusOr<Page<Action>> List(const ListQuery& query) = 0;

  // Applies a reported state change atomically: checks CheckTransition(current, event.phase) (an illegal one is
  // kFailedPrecondition and changes nothing), updates the action (phase, attempts, times, output, error), the
  // attempt row (created on first sight), closes the previous phase transition and opens the new one, appends
  // cluster events. Returns the action as stored afterwards.
  virtual absl::StatusOr<Action> ApplyEvent(const ActionKey& key, const ActionEvent& event) = 0;
  // ApplyEvent for each event in order, all in one transaction, with one outcome per event: a refused event
  // (kNotFound, kFailedPrecondition, kInvalidArgument) changes nothing and the others still apply. When the
  // transaction itself fails (kUnavailable, kInternal), every outcome is that error and nothing was applied.
  virtual std::vector<absl::StatusOr<Action>> ApplyEvents(const std::vector<KeyedEvent>& events) = 0;

  // Marks the action and every non-terminal descendant ABORTED with `reason` at `now`. Already-terminal actions
  // are left as they are. Returns the keys that changed (possibly empty). kNotFound if `key` does not exist.
  virtual absl::StatusOr<std::vector<ActionKey>> Abort(const ActionKey& key, const std::string& reason,
                                                      TimePoint now) = 0;

  // The same as CreateRun / CreateAction / Abort, and `command` is recorded in the queue outbox in the same
  // transaction (for Abort: only when something changed). Stores without an outbox answer kUnimplemented.
  virtual absl::Status CreateRunAndRecord(const Action& root, const QueueCommand& command) {
    (void)root, (void)command;
    return absl::UnimplementedError("this store has no queue outbox");
  }
  virtual absl::Status CreateActionAndRecord(const Action& action, const QueueCommand& command) {
    (void)action, (void)command;
    return absl::UnimplementedError("this store has no queue outbox");
  }
  virtual absl::StatusOr<std::vector<ActionKey>> AbortAndRecord(const ActionKey& key, const std::string& reason,
                                                               TimePoint now, const QueueCommand& command) {
    (void)key, (void)reason, (void)now, (void)command;
    return absl::UnimplementedError("this store has no queue outbox");
  }

  // What CreateRunWith does in the run's transaction besides inserting the root action.
  struct RunCreation {
    // Recorded in the queue outbox (a store without one answers kUnimplemented).
    std::optional<QueueCommand> enqueue;
    // The run's labels (its RunSpec's), kept where ListRuns filters `labels.<key>` find them.
    std::map<std::string, std::string> labels;
    // A recovery run: which run it recovers (kept in run_recoveries, read back by GetRecovery).
    std::optional<RunRecovery> recovery;
  };
  // CreateRun with the extras above, in one transaction. Returns the root action as stored (what Get answers
  // right after: version 1, times at the stored microsecond precision), so callers need not read it back.
  virtual absl::StatusOr<Action> CreateRunWith(const Action& root, const RunCreation& with) = 0;

  // What a recovery run recovers; nullopt for every other run. kNotFound if the run does not exist.
  virtual absl::StatusOr<std::optional<RunRecovery>> GetRecovery(const RunKey& run) = 0;

  // `fn` is called after each committed change, from a repository-owned thread or the writer's thread; it must
  // not block. One listener; set before use.
  virtual void SetChangeListener(std::function<void(const ActionChange&)> fn) = 0;
};

class TaskRepository {
 public:
  virtual ~TaskRepository() = default;
  // Creates the version, or replaces the spec of an existing version (redeploy), keeping created_at.
  virtual absl::Status Deploy(const Task& task) = 0;
  virtual absl::StatusOr<Task> Get(const TaskKey& key) = 0;
  // Latest version (by created_at, then version) per task name within the scope. Filters on kName, kTaskName,
  // kEnvironment, kShortName, kCreatedAt, kUpdatedAt; sort likewise.
  virtual absl::StatusOr<Page<Task>> ListLatest(const ListQuery& query) = 0;
  // All versions of one task name, newest first unless sorted otherwise.
  virtual absl::StatusOr<Page<Task>> ListVersions(const TaskKey& name_only, const ListQuery& query) = 0;
};

// Owns the connection(s); gives out the repositories. Created by OpenStore (store_factory.h).
class Store {
 public:
  virtual ~Store() = default;
  virtual ActionRepository& Actions() = 0;
  virtual TaskRepository& Tasks() = 0;
  virtual ProjectRepository& Projects() = 0;
  virtual SecretRepository& Secrets() = 0;
  virtual CacheRepository& Cache() = 0;
  // SecretService's secrets (sealed values).
  virtual UserSecretRepository& UserSecrets() = 0;

  virtual TriggerRepository& Triggers() = 0;
  // Commands waiting to reach queue-service; nullptr if this store keeps none.
  virtual QueueOutbox* Outbox() { return nullptr; }
  // Cheap round trip for /readyz. kUnavailable if the database cannot be reached.
  virtual absl::Status Ping() = 0;
};

}  // namespace flyte::runs
