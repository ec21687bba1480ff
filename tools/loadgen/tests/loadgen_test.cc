// Unit tests for the load generator's pure parts: Connect framing, error mapping, percentiles, flags and the
// open-/closed-loop driver's timing rules.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "connect_wire.h"
#include "flags.h"
#include "load.h"
#include "scenarios.h"
#include "stack.h"
#include "stats.h"

using namespace flyte::loadgen;

TEST_CASE("envelopes round-trip through the parser whatever the slicing", "[unit][loadgen]") {
  std::string wire = Envelope("hello") + Envelope("") + Envelope(std::string(70000, 'x')) + Envelope("{}", 0x02);
  for (size_t step : {size_t{1}, size_t{3}, size_t{4096}, wire.size()}) {
    EnvelopeParser p;
    std::vector<Frame> frames;
    for (size_t i = 0; i < wire.size(); i += step) {
      REQUIRE(p.Feed(std::string_view(wire).substr(i, step), &frames));
    }
    REQUIRE(frames.size() == 4);
    CHECK(frames[0].payload == "hello");
    CHECK(frames[1].payload.empty());
    CHECK(frames[2].payload.size() == 70000);
    CHECK_FALSE(frames[2].end_stream());
    CHECK(frames[3].end_stream());
    CHECK(p.buffered() == 0);
  }
}

TEST_CASE("the envelope header is flag byte then big-endian length", "[unit][loadgen]") {
  std::string e = Envelope(std::string(258, 'a'), 0x02);
  REQUIRE(e.size() == 263);
  CHECK(static_cast<unsigned char>(e[0]) == 0x02);
  CHECK(static_cast<unsigned char>(e[3]) == 0x01);
  CHECK(static_cast<unsigned char>(e[4]) == 0x02);
}

TEST_CASE("an oversized frame marks the stream malformed", "[unit][loadgen]") {
  EnvelopeParser p(/*max_frame=*/10);
  std::vector<Frame> frames;
  CHECK_FALSE(p.Feed(Envelope(std::string(11, 'z')), &frames));
  CHECK(p.error());
  CHECK(frames.empty());
}

TEST_CASE("end-of-stream JSON maps to a call result", "[unit][loadgen]") {
  CHECK(ParseEndStream("{}").ok());
  CallResult r = ParseEndStream(R"({"error":{"code":"resource_exhausted","message":"too slow"}})");
  CHECK(r.code == 8);
  CHECK(r.message == "too slow");
  CHECK(ParseEndStream("not json").code == kInternal);
}

TEST_CASE("Connect unary errors use the JSON code, else the HTTP status", "[unit][loadgen]") {
  CallResult r = ParseConnectError(404, R"({"code":"not_found","message":"no run x"})");
  CHECK(r.code == 5);
  CHECK(r.message == "no run x");
  CHECK(ParseConnectError(404, "<html>").code == 12);  // unimplemented: no such route
  CHECK(ParseConnectError(503, "").code == kUnavailable);
  CHECK(CodeFromConnectName("already_exists") == 6);
  CHECK(CodeFromConnectName("bogus") == kUnknown);
  CHECK(CodeName(14) == "UNAVAILABLE");
  CHECK(CodeName(99) == "CODE_99");
}

TEST_CASE("percentiles are nearest-rank", "[unit][loadgen]") {
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i * 1000000LL);  // 1..100 ms, unsorted
  LatencySummary s = Summarize(v);
  CHECK(s.count == 100);
  CHECK(s.p50_ms == Approx(50));
  CHECK(s.p90_ms == Approx(90));
  CHECK(s.p99_ms == Approx(99));
  CHECK(s.max_ms == Approx(100));
  CHECK(s.mean_ms == Approx(50.5));
  std::vector<int64_t> one{7};
  CHECK(PercentileOfSorted(one, 0.99) == 7);
  std::vector<int64_t> none;
  CHECK(Summarize(none).count == 0);
}

TEST_CASE("durations and flags parse strictly", "[unit][loadgen]") {
  CHECK(ParseDuration("10s").value() == std::chrono::seconds(10));
  CHECK(ParseDuration("250ms").value() == std::chrono::milliseconds(250));
  CHECK(ParseDuration("2m").value() == std::chrono::minutes(2));
  CHECK(ParseDuration("3").value() == std::chrono::seconds(3));
  CHECK_FALSE(ParseDuration("10h").ok());
  CHECK_FALSE(ParseDuration("abc").ok());

  auto f = Flags::Parse({"--rate", "500", "--duration=5s", "--quiet"}, {"quiet"});
  REQUIRE(f.ok());
  CHECK(f->Num("rate", 0).value() == 500);
  CHECK(f->Dur("duration", "10s").value() == std::chrono::seconds(5));
  CHECK(f->Bool("quiet"));
  CHECK(f->CheckKnown({"rate", "duration", "quiet"}).ok());
  CHECK_FALSE(f->CheckKnown({"rate"}).ok());
  CHECK_FALSE(Flags::Parse({"--rate"}, {}).ok());
  CHECK_FALSE(Flags::Parse({"--rate", "x"}, {})->Num("rate", 0).ok());
}

TEST_CASE("CreateRun requests carry the id and an inline task spec", "[unit][loadgen]") {
  auto req = MakeCreateRun(Scope{"o", "p", "d"}, "lgabc-1");
  CHECK(req.run_id().name() == "lgabc-1");
  CHECK(req.run_id().project() == "p");
  CHECK(req.has_task_spec());
  CHECK(req.task_spec().task_template().id().name() == "loadgen.noop");
  CHECK(req.task_spec().task_template().has_container());
  const std::string prefix = RunNamePrefix();
  CHECK(prefix.size() == 8);
  CHECK(prefix == RunNamePrefix());
}

TEST_CASE("open loop keeps the schedule and charges a slow call from its scheduled time", "[unit][loadgen]") {
  LoadOptions o;
  o.rate = 200;
  o.duration = std::chrono::milliseconds(500);
  Recorder rec;
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  // Call 0 takes 100 ms; the rest complete at once. The schedule must not wait for call 0.
  IssueFn issue = [&](uint64_t seq, std::function<void(const CallResult&)> done) {
    calls.fetch_add(1);
    if (seq == 0) {
      std::lock_guard<std::mutex> lock(mu);
      threads.emplace_back([done] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        done(CallResult{});
      });
      return;
    }
    done(seq % 10 == 5 ? CallResult{5, "gone"} : CallResult{});
  };
  LoadResult r = RunLoad(o, issue, &rec);
  for (auto& t : threads) t.join();
  CHECK(r.sent == 100);
  CHECK(calls.load() == 100);
  CHECK(r.unfinished == 0);
  CHECK(rec.errors().at("NOT_FOUND") == 10);
  std::vector<int64_t> lat = rec.TakeLatencies();
  REQUIRE(lat.size() == 90);
  LatencySummary s = Summarize(lat);
  CHECK(s.max_ms >= 100);
  CHECK(s.p50_ms < 20);
}

TEST_CASE("closed loop keeps `concurrency` calls in flight and stops at the duration", "[unit][loadgen]") {
  LoadOptions o;
  o.rate = 0;
  o.concurrency = 4;
  o.duration = std::chrono::milliseconds(300);
  Recorder rec;
  std::atomic<int> in_flight{0}, peak{0};
  std::mutex mu;
  std::vector<std::thread> threads;
  IssueFn issue = [&](uint64_t, std::function<void(const CallResult&)> done) {
    int now = in_flight.fetch_add(1) + 1;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back([done, &in_flight] {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      in_flight.fetch_sub(1);
      done(CallResult{});
    });
  };
  LoadResult r = RunLoad(o, issue, &rec);
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& t : threads) t.join();
  }
  CHECK(peak.load() == 4);
  CHECK(r.unfinished == 0);
  CHECK(r.sent >= 40);   // ~4 per 10 ms over 300 ms = ~120, generous for a loaded machine
  CHECK(r.sent <= 130);
  CHECK(rec.ok() == r.sent);
  CHECK(r.elapsed_s >= 0.29);
}

TEST_CASE("stack modes' percentile is nearest-rank on unsorted input", "[unit][loadgen]") {
  std::vector<double> empty;
  CHECK(Percentile(&empty, 50) == 0);
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  CHECK(Percentile(&v, 50) == 50);
  CHECK(Percentile(&v, 99) == 99);
  CHECK(Percentile(&v, 100) == 100);
  CHECK(Percentile(&v, 0) == 1);
  std::vector<double> one{7};
  CHECK(Percentile(&one, 99) == 7);
}

TEST_CASE("stack modes reject unknown flags before connecting", "[unit][loadgen]") {
  auto flags = Flags::Parse({"--steps", "3", "--bogus", "1"}, {"quiet"});
  REQUIRE(flags.ok());
  auto out = RunChain(*flags);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(out.status().message()).find("bogus") != std::string::npos);
}
