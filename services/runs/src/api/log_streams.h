#pragma once
// Drives TailLogs streams: each followed log gets a thread of its own that asks its LogTail for the next lines,
// sends them, and sleeps runs.logs.pollInterval when there is nothing new, until the attempt's log is finished
// (the stream ends OK), the client goes away, or Shutdown. A thread per stream keeps the file and Kubernetes
// sources simple (both may block briefly); their number is capped by runs.logs.maxStreams.
//
// Flow control: a thread sends only while the stream has fewer than `max_queued_messages` messages not yet
// written, so a slow client slows its reader down instead of filling memory or being dropped.
//
// Thread-safe. Threads that have ended are joined by the next Follow and by Shutdown; the destructor shuts down.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include <prometheus/gauge.h>

#include "flyte/metrics/registry.h"
#include "flyte/rpc/router.h"
#include "flyteidl2/dataproxy/dataproxy_service.pb.h"
#include "service/log_tail_use_cases.h"

namespace flyte::runs::api {

struct LogStreamsOptions {
  size_t max_streams = 64;                       // runs.logs.maxStreams
  std::chrono::milliseconds poll_interval{200};  // runs.logs.pollInterval
  size_t max_queued_messages = 4;
  metrics::Registry* metrics = nullptr;  // flyte_runs_log_streams (streams being followed) when set
};

class LogStreams {
 public:
  explicit LogStreams(LogStreamsOptions options);
  ~LogStreams() { Shutdown(); }
  LogStreams(const LogStreams&) = delete;
  LogStreams& operator=(const LogStreams&) = delete;

  // Follows `tail` into `stream` on a new thread. kResourceExhausted naming runs.logs.maxStreams when that many
  // streams are followed already; kUnavailable after Shutdown.
  absl::Status Follow(std::unique_ptr<LogTail> tail, rpc::ServerStream<flyteidl2::dataproxy::TailLogsResponse> stream);
  // Streams being followed now (their threads running).
  size_t active() const;
  // Ends every stream (kUnavailable) and joins every thread.
  void Shutdown();

 private:
  struct Follower;
  void Run(const std::shared_ptr<Follower>& f);
  void JoinEndedLocked(std::vector<std::thread>* to_join);

  const LogStreamsOptions options_;
  prometheus::Gauge* gauge_ = nullptr;
  mutable std::mutex mu_;
  bool shut_down_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Follower>> running_;
  std::map<uint64_t, std::thread> threads_;
  std::vector<uint64_t> ended_;
};

// Lines as one TailLogsResponse: consecutive lines of one container in one Logs entry (its ContainerIdentifier
// names the container: "stdout"/"stderr" for files; namespace, Pod and container for Pod logs).
flyteidl2::dataproxy::TailLogsResponse ToTailLogsResponse(const std::vector<LogLine>& lines);

}  // namespace flyte::runs::api
