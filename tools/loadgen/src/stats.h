#pragma once
// Latency and error bookkeeping for one scenario, and the report it turns into (human table + JSON).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connect_wire.h"

namespace flyte::loadgen {

struct LatencySummary {
  size_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

// Nearest-rank percentile (q in [0,1]) of an ascending vector; 0 for an empty one.
int64_t PercentileOfSorted(const std::vector<int64_t>& sorted, double q);
// Sorts `ns` (nanoseconds) in place and summarizes it in milliseconds.
LatencySummary Summarize(std::vector<int64_t>& ns);

// Collects latencies of successful calls and counts failures by code name. Thread-safe.
class Recorder {
 public:
  void Record(int64_t latency_ns, const CallResult& r);
  void RecordError(const std::string& code_name);  // failures that never reached a transport (client backlog)
  std::vector<int64_t> TakeLatencies();
  std::map<std::string, uint64_t> errors() const;
  uint64_t ok() const;
  // First message seen per code, to explain failures in the report.
  std::map<std::string, std::string> samples() const;

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> latencies_;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, std::string> samples_;
  uint64_t ok_ = 0;
};

// What every scenario reports. `extra` carries mode-specific figures (streams held, RSS, ...).
struct Report {
  std::string mode, transport, target;
  double target_rate = 0;      // requests/s asked for; 0 = as fast as possible (closed loop)
  double duration_s = 0;       // wall time of the measured phase
  uint64_t sent = 0, ok = 0;
  double achieved_rate = 0;    // successful calls per second
  LatencySummary latency;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::string> error_samples;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();

  nlohmann::ordered_json ToJson() const;
  std::string ToTable() const;
};

}  // namespace flyte::loadgen
