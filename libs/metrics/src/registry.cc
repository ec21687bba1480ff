#include "flyte/metrics/registry.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace flyte::metrics {
namespace {

// Label values joined with a byte that cannot appear in our label values, as the cache key.
std::string Key(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back('\x1f');
  k.append(b).push_back('\x1f');
  k.append(c);
  return k;
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& Registry::LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

Registry::Registry()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("flyte_rpc_requests_total")
                    .Help("Finished RPCs by method, status code and transport.")
                    .Register(*registry_)),
      rpc_duration_(prometheus::BuildHistogram()
                        .Name("flyte_rpc_duration_seconds")
                        .Help("Unary RPC latency in seconds.")
                        .Register(*registry_)),
      active_streams_(prometheus::BuildGauge()
                          .Name("flyte_rpc_active_streams")
                          .Help("Server streams currently open.")
                          .Register(*registry_)),
      db_duration_(prometheus::BuildHistogram()
                       .Name("flyte_db_query_duration_seconds")
                       .Help("Database round trips in seconds by store and operation.")
                       .Register(*registry_)) {}

prometheus::Counter& Registry::RequestCounter(std::string_view method, std::string_view code,
                                              std::string_view transport) {
  std::string key = Key(method, code, transport);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(key);
  if (it != counters_.end()) return *it->second;
  auto& c = requests_.Add(
      {{"method", std::string(method)}, {"code", std::string(code)}, {"transport", std::string(transport)}});
  counters_.emplace(std::move(key), &c);
  return c;
}

prometheus::Histogram& Registry::RpcHistogram(std::string_view method) {
  std::string key(method);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rpc_hist_.find(key);
  if (it != rpc_hist_.end()) return *it->second;
  auto& h = rpc_duration_.Add({{"method", key}}, LatencyBuckets());
  rpc_hist_.emplace(std::move(key), &h);
  return h;
}

prometheus::Gauge& Registry::StreamGauge(std::string_view method) {
  std::string key(method);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = gauges_.find(key);
  if (it != gauges_.end()) return *it->second;
  auto& g = active_streams_.Add({{"method", key}});
  gauges_.emplace(std::move(key), &g);
  return g;
}

void Registry::ObserveRpc(std::string_view method, std::string_view code, std::string_view transport,
                          double seconds) {
  RequestCounter(method, code, transport).Increment();
  if (seconds >= 0) RpcHistogram(method).Observe(seconds);
}

void Registry::StreamOpened(std::string_view method) { StreamGauge(method).Increment(); }
void Registry::StreamClosed(std::string_view method) { StreamGauge(method).Decrement(); }

void Registry::ObserveDbQuery(std::string_view store, std::string_view op, double seconds) {
  prometheus::Histogram* h;
  {
    std::string key = Key(store, op);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = db_hist_.find(key);
    if (it != db_hist_.end()) {
      h = it->second;
    } else {
      h = &db_duration_.Add({{"store", std::string(store)}, {"op", std::string(op)}}, LatencyBuckets());
      db_hist_.emplace(std::move(key), h);
    }
  }
  h->Observe(seconds);
}

std::string Registry::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace flyte::metrics
