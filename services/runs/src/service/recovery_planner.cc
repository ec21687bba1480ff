#include "service/recovery_planner.h"

namespace flyte::runs {
absl::Status RecoveryPlanner::CheckSource(const RunKey& run, const RunRecovery& recovery) {
  if (recovery.source_run == run.name) {
    return absl::InvalidArgumentError("run_spec.relation.related_to: a run cannot recover itself (" + run.name + ")");
  }
  const RunKey source{run.org, run.project, run.domain, recovery.source_run};
  absl::StatusOr<Action> root = actions_.Get(ActionKey{source, kRootActionName});
  if (root.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("run_spec.relation.related_to: run " + source.name + " to recover not found in " +
                               source.project + "/" + source.domain);
  }
  if (!root.ok()) return root.status();
  if (!IsTerminal(root->phase)) {
    return absl::FailedPreconditionError("run " + source.name + " is still " + std::string(PhaseName(root->phase)) +
                                         ": recover it once it has ended (or abort it first)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RunRecovery>> RecoveryPlanner::RecoveryOf(const RunKey& run) {
  if (std::optional<std::optional<RunRecovery>> known = known_.Find(run)) return *known;
  absl::StatusOr<std::optional<RunRecovery>> read = actions_.GetRecovery(run);
  // Not remembered: a run of that name may still be created (and then be a recovery run).
  if (read.status().code() == absl::StatusCode::kNotFound) return std::optional<RunRecovery>();
  if (!read.ok()) return read.status();
  known_.Remember(run, *read);
  return read;
}

absl::StatusOr<std::optional<Action>> RecoveryPlanner::Recovered(const Action& child, TimePoint now) {
  if (!child.parent || child.type != ActionType::kTask) return std::nullopt;
  absl::StatusOr<std::optional<RunRecovery>> recovery = RecoveryOf(child.key.run);
  if (!recovery.ok()) return recovery.status();
  if (!*recovery) return std::nullopt;
  RunKey source_run = child.key.run;
  source_run.name = (*recovery)->source_run;
  absl::StatusOr<Action> source = actions_.Get(ActionKey{source_run, child.key.name});
  if (source.status().code() == absl::StatusCode::kNotFound) return std::nullopt;  // never ran there
  if (!source.ok()) return source.status();
  if (!TakesOverSourceOutcome(**recovery, child, *source)) return std::nullopt;
  Action recovered = child;
  recovered.phase = Phase::kRecovered;
  // The source's outputs as they are (a recovery of a recovery already points at the run that made them).
  recovered.output_uri = source->output_uri;
  recovered.attempts = 0;
  recovered.created_at = now;
  recovered.updated_at = now;
  recovered.ended_at = now;
  if (record_recovered_from_) recovered.metadata = record_recovered_from_(child.metadata, source->key);
  return recovered;
}

}  // namespace flyte::runs
