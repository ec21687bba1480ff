#include "service/log_tail_use_cases.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace flyte::runs {
namespace {

std::string Describe(const ActionKey& key) {
  return absl::StrCat("action ", key.run.org, "/", key.run.project, "/", key.run.domain, "/", key.run.name, "/",
                      key.name);
}

}  // namespace

bool AttemptIsOver(const ActionWithAttempts& action, uint32_t attempt) {
  if (IsTerminal(action.action.phase)) return true;
  for (const Attempt& a : action.attempts) {
    if (a.attempt == attempt) return IsTerminal(a.phase);
  }
  return false;
}

absl::StatusOr<std::unique_ptr<LogTail>> LogTailUseCases::Open(const ActionKey& key, uint32_t attempt) {
  absl::StatusOr<ActionWithAttempts> action = actions_.GetWithAttempts(key);
  if (!action.ok()) {
    if (action.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat(Describe(key), " not found"));
    }
    return action.status();
  }
  uint32_t latest = action->action.attempts;
  for (const Attempt& a : action->attempts) latest = std::max(latest, a.attempt);
  if (attempt == 0) attempt = latest;
  bool known = false;
  for (const Attempt& a : action->attempts) known = known || a.attempt == attempt;
  if (attempt == 0 || attempt > latest || (!known && !action->attempts.empty())) {
    return absl::NotFoundError(absl::StrCat("attempt ", attempt, " of ", Describe(key), " not found (it has ", latest,
                                            latest == 1 ? " attempt)" : " attempts)"));
  }
  AttemptLogRef ref{key, attempt, action->action.run_output_base};
  absl::StatusOr<std::unique_ptr<LogReader>> reader = source_.Open(ref);
  if (!reader.ok()) return reader.status();
  return std::make_unique<LogTail>(actions_, clock_, options_, key, attempt, AttemptIsOver(*action, attempt),
                                   std::move(*reader));
}

LogTail::LogTail(ActionRepository& actions, common::Clock& clock, LogTailOptions options, ActionKey key,
                 uint32_t attempt, bool over, std::unique_ptr<LogReader> reader)
    : actions_(actions),
      clock_(clock),
      options_(options),
      key_(std::move(key)),
      attempt_(attempt),
      over_(over),
      checked_at_(clock.Now()),
      reader_(std::move(reader)) {}

absl::StatusOr<bool> LogTail::AttemptOver() {
  if (over_) return true;
  TimePoint now = clock_.Now();
  if (now - checked_at_ < options_.phase_check_interval) return false;
  checked_at_ = now;
  absl::StatusOr<ActionWithAttempts> action = actions_.GetWithAttempts(key_);
  if (!action.ok()) {
    // Deleted while followed (its run was removed): nothing more will be written.
    if (action.status().code() == absl::StatusCode::kNotFound) return over_ = true;
    return action.status();
  }
  over_ = AttemptIsOver(*action, attempt_);
  return over_;
}

absl::StatusOr<LogTail::Batch> LogTail::Next() {
  // Phase first, then the log: a read after a terminal phase sees all the attempt wrote.
  absl::StatusOr<bool> over = AttemptOver();
  if (!over.ok()) return over.status();
  Batch batch;
  absl::StatusOr<bool> exhausted = reader_->Read(*over, options_.max_batch_bytes, &batch.lines);
  if (!exhausted.ok()) return exhausted.status();
  batch.finished = *exhausted;
  return batch;
}

}  // namespace flyte::runs
