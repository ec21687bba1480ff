#pragma once
// Use case of DataProxyService.TailLogs on plain types (no gRPC): the output of one attempt of an action, from its
// first line, then the lines written later, until the attempt is over and everything it wrote has been returned.
//
// The attempt is over when its phase (or its action's) is terminal in the database; a quiet tail re-reads that
// phase every options.phase_check_interval. The phase is read before the log, so a read that follows a terminal
// phase sees everything the attempt wrote.
//
// Thread-safe (LogTailUseCases); a LogTail is driven by one caller at a time.
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/action.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"
#include "service/log_source.h"

namespace flyte::runs {

struct LogTailOptions {
  std::chrono::milliseconds phase_check_interval{1000};  // how stale "the attempt is still running" may get
  size_t max_batch_bytes = 64 * 1024;                    // at most about this much per LogTail::Next
};

// One attempt's log being followed.
class LogTail {
 public:
  struct Batch {
    std::vector<LogLine> lines;  // may be empty: nothing new yet
    bool finished = false;       // the attempt is over and every line has been returned
  };

  LogTail(ActionRepository& actions, common::Clock& clock, LogTailOptions options, ActionKey key, uint32_t attempt,
          bool over, std::unique_ptr<LogReader> reader);
  // The next lines available now. Errors: kUnavailable/kInternal from the database or the log source.
  absl::StatusOr<Batch> Next();

  const ActionKey& key() const { return key_; }
  uint32_t attempt() const { return attempt_; }

 private:
  absl::StatusOr<bool> AttemptOver();

  ActionRepository& actions_;
  common::Clock& clock_;
  const LogTailOptions options_;
  const ActionKey key_;
  const uint32_t attempt_;
  bool over_;
  TimePoint checked_at_;
  std::unique_ptr<LogReader> reader_;
};

class LogTailUseCases {
 public:
  LogTailUseCases(ActionRepository& actions, LogSource& source, common::Clock& clock, LogTailOptions options = {})
      : actions_(actions), source_(source), clock_(clock), options_(options) {}

  // `attempt` 0 = the latest attempt. kNotFound naming the action when it does not exist, or naming the attempt
  // when the action has no such attempt (yet); kFailedPrecondition when the log source cannot reach its log.
  absl::StatusOr<std::unique_ptr<LogTail>> Open(const ActionKey& key, uint32_t attempt);

 private:
  ActionRepository& actions_;
  LogSource& source_;
  common::Clock& clock_;
  const LogTailOptions options_;
};

// Whether attempt `attempt` of `action` is over: its own phase, or its action's, is terminal.
bool AttemptIsOver(const ActionWithAttempts& action, uint32_t attempt);

}  // namespace flyte::runs
