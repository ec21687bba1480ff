#pragma once
// LogSource over the local runtime's files: <run_dir>/<action>/<attempt>/stdout.log and stderr.log, where run_dir is
// the run's file:// output base, or <root>/<org>/<project>/<domain>/<run> without one (the executor's
// AttemptLayout). Only paths under `root` (runs.storagePrefix) are read, whatever an action's stored base says.
//
// Reading: each file is reopened on every Read and read from the offset reached so far, so a file created later,
// or recreated by a re-delivered attempt (found shorter than the offset: read again from its start), is followed.
// Each Read takes at most half its byte budget from each file, stdout first: lines keep their order within a
// file; across the two files they are ordered by when they were read. Thread-safe (readers are not).
#include <string>

#include "service/log_source.h"

namespace flyte::runs {

struct FileLogSourceOptions {
  std::string root;               // absolute local directory (runs.storagePrefix without file://)
  size_t max_line_bytes = 64 * 1024;  // a longer line comes in pieces of this size
};

class FileLogSource final : public LogSource {
 public:
  explicit FileLogSource(FileLogSourceOptions options);
  absl::StatusOr<std::unique_ptr<LogReader>> Open(const AttemptLogRef& attempt) override;
  std::string Describe() const override { return "files under " + options_.root; }

  // The attempt's directory, or kFailedPrecondition when it would lie outside the root.
  absl::StatusOr<std::string> AttemptDir(const AttemptLogRef& attempt) const;

 private:
  FileLogSourceOptions options_;
};

}  // namespace flyte::runs
