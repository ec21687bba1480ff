#pragma once
// LogSource over Kubernetes: the log of the attempt's Pod (kube::PodName(run, action, attempt) in the configured
// namespace) through the API server, GET /api/v1/namespaces/<ns>/pods/<pod>/log?container=<primary>&follow=true
// &timestamps=true. The primary container is the one the Pod's flyte.org/primary-container annotation names, else
// its first container. Each line's timestamp is the one the kubelet recorded.
//
// Each reader runs one thread that fetches the Pod and follows its log into a bounded buffer (the HTTP stream is
// not read further while the buffer is full); Read takes lines out of it. Until the Pod exists and its container has
// started (404, 400 "waiting to start", 5xx) the thread retries every `retry_interval`. The log ends when the API
// server ends the follow (the container terminated), or once the attempt is over and nothing has come for
// `end_grace`. Thread-safe (readers are not).
#include <chrono>
#include <memory>
#include <string>

#include "flyte/kube/client.h"
#include "service/log_source.h"

namespace flyte::runs {

struct PodLogSourceOptions {
  std::string ns = "flyte";
  std::chrono::milliseconds retry_interval{500};
  // Once the attempt is over, the log ends when nothing more has come for this long (the Pod is gone, or a kubelet
  // keeps the follow open after the container ended).
  std::chrono::milliseconds end_grace{3000};
  size_t buffer_bytes = 1024 * 1024;    // per reader: the HTTP stream waits while this much is unread
  size_t max_line_bytes = 64 * 1024;
};

class PodLogSource final : public LogSource {
 public:
  // `client` is borrowed and must outlive every reader.
  PodLogSource(kube::Client& client, PodLogSourceOptions options) : client_(client), options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<LogReader>> Open(const AttemptLogRef& attempt) override;
  std::string Describe() const override { return "Pod logs in namespace " + options_.ns; }

 private:
  kube::Client& client_;
  PodLogSourceOptions options_;
};

// "2026-12-06T05:28:07.123456789Z hello\n" -> time and "hello\n"; a line without a timestamp keeps its text and
// gets `fallback` as its time.
void SplitTimestamp(const std::string& line, TimePoint fallback, LogLine* out);

}  // namespace flyte::runs
