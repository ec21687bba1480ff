#include "stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

namespace flyte::loadgen {

int64_t PercentileOfSorted(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  if (rank == 0) rank = 1;
  return sorted[rank - 1];
}

LatencySummary Summarize(std::vector<int64_t>& ns) {
  LatencySummary s;
  s.count = ns.size();
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  constexpr double kMs = 1e6;
  s.p50_ms = PercentileOfSorted(ns, 0.50) / kMs;
  s.p90_ms = PercentileOfSorted(ns, 0.90) / kMs;
  s.p99_ms = PercentileOfSorted(ns, 0.99) / kMs;
  s.max_ms = ns.back() / kMs;
  long double sum = std::accumulate(ns.begin(), ns.end(), static_cast<long double>(0));
  s.mean_ms = static_cast<double>(sum / ns.size() / kMs);
  return s;
}

void Recorder::Record(int64_t latency_ns, const CallResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  if (r.ok()) {
    ++ok_;
    latencies_.push_back(latency_ns);
    return;
  }
  std::string name = CodeName(r.code);
  ++errors_[name];
  samples_.emplace(name, r.message.substr(0, 300));
}

void Recorder::RecordError(const std::string& code_name) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[code_name];
}

std::vector<int64_t> Recorder::TakeLatencies() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(latencies_);
}

std::map<std::string, uint64_t> Recorder::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

std::map<std::string, std::string> Recorder::samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

uint64_t Recorder::ok() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ok_;
}

namespace {
double Round(double v, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}
}  // namespace

nlohmann::ordered_json Report::ToJson() const {
  nlohmann::ordered_json j;
  j["mode"] = mode;
  j["transport"] = transport;
  j["target"] = target;
  j["target_rate"] = target_rate;
  j["duration_s"] = Round(duration_s, 3);
  j["sent"] = sent;
  j["ok"] = ok;
  j["achieved_rate"] = Round(achieved_rate, 1);
  j["latency_ms"] = {{"count", latency.count},         {"p50", Round(latency.p50_ms, 3)},
                     {"p90", Round(latency.p90_ms, 3)}, {"p99", Round(latency.p99_ms, 3)},
                     {"max", Round(latency.max_ms, 3)}, {"mean", Round(latency.mean_ms, 3)}};
  j["errors"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : errors) j["errors"][k] = v;
  j["error_samples"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : error_samples) j["error_samples"][k] = v;
  j["extra"] = extra;
  return j;
}

std::string Report::ToTable() const {
  std::ostringstream o;
  o << fmt::format("== {} over {} -> {}\n", mode, transport, target);
  o << fmt::format("  {:<34}{}\n", "target rate",
                   target_rate > 0 ? fmt::format("{:.0f}/s (open loop)", target_rate) : "max (closed loop)");
  o << fmt::format("  {:<34}{:.2f} s\n", "measured for", duration_s);
  o << fmt::format("  {:<34}{} sent, {} ok\n", "calls", sent, ok);
  o << fmt::format("  {:<34}{:.1f}/s\n", "achieved (ok)", achieved_rate);
  o << fmt::format("  {:<34}p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}  (n={})\n", "latency ms", latency.p50_ms,
                   latency.p90_ms, latency.p99_ms, latency.max_ms, latency.count);
  if (errors.empty()) {
    o << fmt::format("  {:<34}none\n", "errors");
  } else {
    for (const auto& [k, v] : errors) {
      auto it = error_samples.find(k);
      o << fmt::format("  {:<34}{} x{}{}\n", "error", k, v,
                       it != error_samples.end() && !it->second.empty() ? "  (" + it->second + ")" : "");
    }
  }
  for (const auto& [k, v] : extra.items()) {
    o << fmt::format("  {:<34}{}\n", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return o.str();
}

}  // namespace flyte::loadgen
