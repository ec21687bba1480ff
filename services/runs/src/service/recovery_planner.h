#pragma once
// The recovery part of RunUseCases (`flyte rerun --recover`), on domain types only: checks the run a new recovery
// run names, and decides for each child enqueued in a recovery run whether it takes over the outcome of the
// same-named action of the recovered run (TakesOverSourceOutcome) instead of running.
//
// Thread-safe. Borrows `actions`. What a run recovers never changes once the run exists (it is written with the
// run, before any child can be enqueued), so it is remembered per existing run, also when it recovers nothing.
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/recovery.h"
#include "repository/action_repository.h"
#include "service/run_memo.h"

namespace flyte::runs {

class RecoveryPlanner {
 public:
  // `record_recovered_from`: see RunUseCasesOptions (may be empty).
  using ProvenanceRecorder = std::function<std::string(const std::string& metadata, const ActionKey& source)>;
  explicit RecoveryPlanner(ActionRepository& actions, ProvenanceRecorder record_recovered_from = nullptr)
      : actions_(actions), record_recovered_from_(std::move(record_recovered_from)) {}

  // CreateRun of a recovery run `run`: kNotFound if the recovered run does not exist, kFailedPrecondition while it
  // has not ended (its outcome is not known yet), kInvalidArgument if it is `run` itself.
  absl::Status CheckSource(const RunKey& run, const RunRecovery& recovery);

  // `child` as it is to be recorded when it takes over the recovered run's outcome: RECOVERED at `now`, with the
  // source action's outputs (and the source in its metadata) and nothing to queue. nullopt when it is to run (not a recovery run, nothing to take
  // over). kUnavailable/kInternal when the database cannot say.
  absl::StatusOr<std::optional<Action>> Recovered(const Action& child, TimePoint now);

 private:
  absl::StatusOr<std::optional<RunRecovery>> RecoveryOf(const RunKey& run);

  ActionRepository& actions_;
  const ProvenanceRecorder record_recovered_from_;
  RunMemo<std::optional<RunRecovery>> known_;
};

}  // namespace flyte::runs
