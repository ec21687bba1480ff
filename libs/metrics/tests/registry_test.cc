#include "flyte/metrics/registry.h"

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace {

bool Contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("rpc metrics appear in the text exposition", "[unit]") {
  flyte::metrics::Registry reg;
  reg.ObserveRpc("/a.S/M", "OK", "grpc", 0.002);
  reg.ObserveRpc("/a.S/M", "OK", "grpc", 0.2);
  reg.ObserveRpc("/a.S/M", "NOT_FOUND", "connect", -1);
  reg.StreamOpened("/a.S/W");
  reg.StreamOpened("/a.S/W");
  reg.StreamClosed("/a.S/W");
  reg.ObserveDbQuery("sqlite", "get_run", 0.0007);
  std::string text = reg.Serialize();
  CHECK(Contains(text, "# TYPE flyte_rpc_requests_total counter"));
  CHECK(Contains(text, "flyte_rpc_requests_total{code=\"OK\",method=\"/a.S/M\",transport=\"grpc\"} 2"));
  CHECK(Contains(text, "flyte_rpc_requests_total{code=\"NOT_FOUND\",method=\"/a.S/M\",transport=\"connect\"} 1"));
  CHECK(Contains(text, "flyte_rpc_duration_seconds_count{method=\"/a.S/M\"} 2"));
  CHECK(Contains(text, "flyte_rpc_duration_seconds_bucket{method=\"/a.S/M\",le=\"0.0025\"} 1"));
  CHECK(Contains(text, "flyte_rpc_active_streams{method=\"/a.S/W\"} 1"));
  CHECK(Contains(text, "flyte_db_query_duration_seconds_count{op=\"get_run\",store=\"sqlite\"} 1"));
  CHECK(Contains(text, "flyte_db_query_duration_seconds_bucket{op=\"get_run\",store=\"sqlite\",le=\"0.001\"} 1"));
}

TEST_CASE("services can add their own families", "[unit]") {
  flyte::metrics::Registry reg;
  auto& fam = prometheus::BuildGauge().Name("flyte_queue_depth").Help("d").Register(reg.prometheus());
  fam.Add({}).Set(7);
  CHECK(Contains(reg.Serialize(), "flyte_queue_depth 7"));
}

TEST_CASE("concurrent observations are all counted", "[unit]") {
  flyte::metrics::Registry reg;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&reg, t] {
      for (int i = 0; i < 1000; ++i) reg.ObserveRpc("/a.S/M" + std::to_string(i % 3), "OK", "grpc", 0.001 * t);
    });
  }
  for (auto& th : threads) th.join();
  std::string text = reg.Serialize();
  CHECK(Contains(text, "flyte_rpc_duration_seconds_count{method=\"/a.S/M0\"} 1336"));
  CHECK(Contains(text, "flyte_rpc_requests_total{code=\"OK\",method=\"/a.S/M1\",transport=\"grpc\"} 1332"));
}
