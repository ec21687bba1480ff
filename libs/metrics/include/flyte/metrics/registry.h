#pragma once
// Process-wide Prometheus registry with the metrics every flyte-cpp binary exports:
//   flyte_rpc_requests_total{method,code,transport}   counter, one per finished call
//   flyte_rpc_duration_seconds{method}                histogram, unary call latency (streams are not timed)
//   flyte_rpc_active_streams{method}                  gauge, open server streams
//   flyte_db_query_duration_seconds{store,op}         histogram, database round trips
// Services add their own families through prometheus().
//
// Thread-safe. Label children are cached after the first lookup, so the hot path is one mutex-guarded hash lookup
// plus the atomic update done by prometheus-cpp.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace flyte::metrics {

class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // One finished RPC. `code` is the canonical code name ("OK", "NOT_FOUND", ...); `transport` is "grpc" or
  // "connect". `seconds` < 0 skips the latency observation.
  void ObserveRpc(std::string_view method, std::string_view code, std::string_view transport, double seconds);
  // +1 / -1 on flyte_rpc_active_streams{method}.
  void StreamOpened(std::string_view method);
  void StreamClosed(std::string_view method);
  void ObserveDbQuery(std::string_view store, std::string_view op, double seconds);

  // For services' own families. The registry outlives every family added to it.
  prometheus::Registry& prometheus() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared() const { return registry_; }

  // Prometheus text exposition format 0.0.4 of everything registered.
  std::string Serialize() const;

  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  prometheus::Counter& RequestCounter(std::string_view method, std::string_view code, std::string_view transport);
  prometheus::Histogram& RpcHistogram(std::string_view method);
  prometheus::Gauge& StreamGauge(std::string_view method);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
  prometheus::Family<prometheus::Gauge>& active_streams_;
  prometheus::Family<prometheus::Histogram>& db_duration_;

  std::mutex mu_;
  std::unordered_map<std::string, prometheus::Counter*> counters_;
  std::unordered_map<std::string, prometheus::Histogram*> rpc_hist_;
  std::unordered_map<std::string, prometheus::Gauge*> gauges_;
  std::unordered_map<std::string, prometheus::Histogram*> db_hist_;
};

}  // namespace flyte::metrics
