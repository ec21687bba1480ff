#pragma once
// Port: where the output of one attempt of an action is read from. Two implementations, chosen by runs.logs.source:
// FileLogSource (logs/file_log_source.h: the local runtime's stdout.log and stderr.log under runs.storagePrefix) and
// PodLogSource (logs/pod_log_source.h: the attempt's Pod log through the Kubernetes API server). No gRPC, no SQL.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/action.h"

namespace flyte::runs {

struct LogLine {
  TimePoint time{};       // when it was written where the source says (Pod logs), else when it was read
  std::string text;       // valid UTF-8, ending in '\n' (a last line the program left unterminated gets one)
  std::string container;  // where it came from: "stdout" / "stderr" (files) or the Pod's container name
  std::string pod_namespace, pod_name;  // the Pod it came from (Pod logs only)
};

// The attempt whose log is read.
struct AttemptLogRef {
  ActionKey key;
  uint32_t attempt = 1;         // 1-based
  std::string run_output_base;  // the run's output base as stored with the action ("" = none)
};

// One attempt's log being read, from its first line on. Not thread-safe: one reader loop calls it at a time.
// Destroying it releases everything it holds (files, connections, threads) promptly.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Never blocks for long: appends to `out` the lines available now, about `max_bytes` of them at most (a line
  // longer than that comes in pieces). `writer_done` tells that the attempt is over, so nothing more will be
  // written (a last line without its newline is then returned as well). Returns true once the log is exhausted:
  // every line returned and nothing more can come. kUnavailable when the source cannot be reached right now,
  // kInternal on read errors.
  virtual absl::StatusOr<bool> Read(bool writer_done, size_t max_bytes, std::vector<LogLine>* out) = 0;
};

class LogSource {
 public:
  virtual ~LogSource() = default;
  // Opens the attempt's log; a log that has not been written yet reads as empty until it appears.
  // kFailedPrecondition when this source cannot reach the attempt's log (e.g. it is not on the local data root).
  virtual absl::StatusOr<std::unique_ptr<LogReader>> Open(const AttemptLogRef& attempt) = 0;
  // For the log at start: "files under /data", "Pod logs in namespace flyte".
  virtual std::string Describe() const = 0;
};

}  // namespace flyte::runs
