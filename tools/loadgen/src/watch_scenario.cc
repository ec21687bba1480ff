// The watch mode: thousands of WatchRuns streams held open while runs are created at a fixed rate; delivery
// latency, lost streams and missing deliveries, and the server's CPU and memory while holding them.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "client.h"
#include "load.h"
#include "scenario_support.h"
#include "scenarios.h"

namespace flyte::loadgen {
namespace {

namespace wf = flyteidl2::workflow;
using Clock = std::chrono::steady_clock;

// Per-stream bookkeeping for the watch scenario. Receipt times live in one shared array (streams x events).
class WatchScenario;

class StreamState : public WatchObserver {
 public:
  StreamState(WatchScenario* sc, int index, std::string transport) : sc_(sc), index_(index),
                                                                    transport_(std::move(transport)) {}
  void OnOpen() override;
  void OnMessage(const wf::WatchRunsResponse& msg) override;
  void OnDone(const CallResult& r) override;

  std::atomic<bool> opened{false};
  std::atomic<bool> done{false};
  std::atomic<int64_t> probe_ns{0};
  std::atomic<int64_t> done_ns{0};
  CallResult result;  // written before `done` is set
  const std::string& transport() const { return transport_; }

 private:
  WatchScenario* sc_;
  int index_;
  std::string transport_;
};

class WatchScenario {
 public:
  WatchScenario(std::string prefix, int streams, int events)
      : prefix_(std::move(prefix)), streams_(streams), events_(events),
        recv_(new std::atomic<int64_t>[static_cast<size_t>(streams) * events]()) {}

  const std::string& prefix() const { return prefix_; }
  std::atomic<int64_t>& Recv(int stream, int event) {
    return recv_[static_cast<size_t>(stream) * events_ + event];
  }
  int events() const { return events_; }

  std::atomic<uint64_t> messages{0}, runs_seen{0}, delivered{0}, duplicates{0}, opened{0}, finished{0};

 private:
  std::string prefix_;
  int streams_, events_;
  std::unique_ptr<std::atomic<int64_t>[]> recv_;
};

void StreamState::OnOpen() {
  if (!opened.exchange(true)) sc_->opened.fetch_add(1);
}

void StreamState::OnMessage(const wf::WatchRunsResponse& msg) {
  const int64_t now = NowNs();
  if (!opened.exchange(true)) sc_->opened.fetch_add(1);
  sc_->messages.fetch_add(1, std::memory_order_relaxed);
  const std::string& prefix = sc_->prefix();
  for (const wf::Run& run : msg.runs()) {
    sc_->runs_seen.fetch_add(1, std::memory_order_relaxed);
    const std::string& name = run.action().id().run().name();
    if (name.size() <= prefix.size() + 1 || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string_view rest(name);
    rest.remove_prefix(prefix.size());
    if (rest == "-probe") {
      int64_t zero = 0;
      probe_ns.compare_exchange_strong(zero, now);
      continue;
    }
    if (rest.size() < 3 || rest[0] != '-' || rest[1] != 'e') continue;
    int idx = 0;
    for (char ch : rest.substr(2)) {
      if (ch < '0' || ch > '9') { idx = -1; break; }
      idx = idx * 10 + (ch - '0');
    }
    if (idx < 0 || idx >= sc_->events()) continue;
    int64_t zero = 0;
    if (sc_->Recv(index_, idx).compare_exchange_strong(zero, now)) {
      sc_->delivered.fetch_add(1, std::memory_order_relaxed);
    } else {
      sc_->duplicates.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void StreamState::OnDone(const CallResult& r) {
  result = r;
  done_ns.store(NowNs());
  done.store(true);
  sc_->finished.fetch_add(1);
}

// Samples a process's VmRSS in the background and keeps the maximum.
class RssSampler {
 public:
  explicit RssSampler(int pid) : pid_(pid) {
    if (pid_ > 0) thread_ = std::thread([this] { Loop(); });
  }
  ~RssSampler() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  long max_kb() const { return max_kb_.load(); }

 private:
  void Loop() {
    while (!stop_.load()) {
      long kb = ReadProcStatusKb(pid_);
      if (kb > max_kb_.load()) max_kb_.store(kb);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  int pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> max_kb_{-1};
  std::thread thread_;
};

double Mb(long kb) { return kb < 0 ? -1.0 : std::round(kb / 102.4) / 10.0; }

}  // namespace

absl::StatusOr<Report> RunWatch(const Flags& f) {
  if (auto s = f.CheckKnown(With({"streams", "events", "event-rate", "server-pid", "open-rate", "open-timeout",
                                   "drain", "create-transport", "scope"}));
      !s.ok()) {
    return s;
  }
  auto streams_n = f.Num("streams", 5000);
  auto events_n = f.Num("events", 20);
  auto event_rate = f.Num("event-rate", 2);
  auto server_pid = f.Num("server-pid", 0);
  auto open_rate = f.Num("open-rate", 2000);
  auto open_timeout = f.Dur("open-timeout", "60s");
  auto drain = f.Dur("drain", "10s");
  for (const absl::Status& s : {streams_n.status(), events_n.status(), event_rate.status(), server_pid.status(),
                                open_rate.status(), open_timeout.status(), drain.status()}) {
    if (!s.ok()) return s;
  }
  const int streams = static_cast<int>(*streams_n);
  const int events = static_cast<int>(*events_n);
  if (streams <= 0 || events <= 0 || *event_rate <= 0 || *open_rate <= 0) {
    return absl::InvalidArgumentError("--streams, --events, --event-rate and --open-rate must be positive");
  }
  const int pid = static_cast<int>(*server_pid);
  const std::string transport = f.Str("transport", "connect");
  if (transport != "connect" && transport != "grpc" && transport != "both") {
    return absl::InvalidArgumentError("--transport must be connect, grpc or both for watch");
  }
  const std::string scope_kind = f.Str("scope", "project");
  if (scope_kind != "project" && scope_kind != "org") {
    return absl::InvalidArgumentError("--scope must be project or org");
  }
  const long nofile = RaiseFileLimit();

  auto opts = ClientOptionsFrom(f, 1);
  if (!opts.ok()) return opts.status();
  std::unique_ptr<RunsClient> connect_client, grpc_client;
  if (transport != "grpc") {
    auto c = MakeClient("connect", *opts);
    if (!c.ok()) return c.status();
    connect_client = std::move(*c);
  }
  if (transport != "connect") {
    auto c = MakeClient("grpc", *opts);
    if (!c.ok()) return c.status();
    grpc_client = std::move(*c);
  }
  ClientOptions create_opts = *opts;
  create_opts.connections = 8;
  auto creator = MakeClient(f.Str("create-transport", "grpc"), create_opts);
  if (!creator.ok()) return creator.status();

  const Scope scope = ScopeFrom(f);
  const std::string prefix = RunNamePrefix() + "w";
  WatchScenario sc(prefix, streams, events);
  std::vector<std::unique_ptr<StreamState>> states;
  states.reserve(streams);

  wf::WatchRunsRequest wreq;
  if (scope_kind == "org") {
    wreq.set_org(scope.org);
  } else {
    auto* p = wreq.mutable_project_id();
    p->set_organization(scope.org);
    p->set_name(scope.project);
    p->set_domain(scope.domain);
  }

  const long rss_before_kb = ReadProcStatusKb(pid);
  // Open the streams at a bounded rate so the server's accept backlog is not overrun.
  const auto open_start = Clock::now();
  const double open_interval_ns = 1e9 / *open_rate;
  for (int i = 0; i < streams; ++i) {
    std::this_thread::sleep_until(open_start + std::chrono::nanoseconds(static_cast<int64_t>(i * open_interval_ns)));
    RunsClient* c = transport == "connect" ? connect_client.get()
                    : transport == "grpc"  ? grpc_client.get()
                                           : (i % 2 == 0 ? connect_client.get() : grpc_client.get());
    states.push_back(std::make_unique<StreamState>(&sc, i, c->name()));
    c->Watch(wreq, states.back().get());
  }
  // Wait until every stream has answered (headers or end), or nothing has moved for 3 s, or the timeout.
  {
    const auto deadline = Clock::now() + *open_timeout;
    uint64_t last = 0;
    auto last_change = Clock::now();
    while (Clock::now() < deadline) {
      const uint64_t answered = sc.opened.load() + sc.finished.load();
      if (answered >= static_cast<uint64_t>(streams)) break;
      if (answered != last) {
        last = answered;
        last_change = Clock::now();
      } else if (Clock::now() - last_change > std::chrono::seconds(3)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();

  // A probe run proves each stream is subscribed and live before the measured events start.
  auto create = [&](const std::string& name, std::function<void(const CallResult&)> done) {
    auto req = std::make_shared<wf::CreateRunRequest>(MakeCreateRun(scope, name));
    (*creator)->Unary(Rpc::kCreateRun, req, std::make_shared<wf::CreateRunResponse>(), std::move(done));
  };
  std::atomic<int> probe_code{-1};
  std::string probe_message;
  std::mutex probe_mu;
  create(prefix + "-probe", [&](const CallResult& r) {
    std::lock_guard<std::mutex> lock(probe_mu);
    probe_message = r.message;
    probe_code.store(r.code);
  });
  int ready = 0;
  {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      ready = 0;
      int alive = 0;
      for (const auto& s : states) {
        if (s->done.load()) continue;
        ++alive;
        if (s->probe_ns.load() != 0) ++ready;
      }
      if (probe_code.load() > 0) break;  // the probe itself failed: nothing will arrive
      if (probe_code.load() == 0 && ready == alive) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const long rss_held_kb = ReadProcStatusKb(pid);
  const long client_rss_held_kb = ReadProcStatusKb(0);

  // Measured phase: `events` runs at `event_rate`; each stream should see every one of them.
  RssSampler sampler(pid);
  std::vector<std::atomic<int64_t>> send_ns(events), done_ns(events);
  std::vector<std::atomic<bool>> created_ok(events);
  Recorder create_rec;
  LoadOptions lo;
  lo.rate = *event_rate;
  lo.duration = std::chrono::nanoseconds(static_cast<int64_t>(events * 1e9 / *event_rate));
  IssueFn issue = [&](uint64_t seq, std::function<void(const CallResult&)> done) {
    if (seq >= static_cast<uint64_t>(events)) return done(CallResult{});
    send_ns[seq].store(NowNs());
    create(fmt::format("{}-e{}", prefix, seq), [&, seq, done](const CallResult& r) {
      done_ns[seq].store(NowNs());
      created_ok[seq].store(r.ok());
      done(r);
    });
  };
  const auto measure_start = Clock::now();
  const double server_cpu_start = pid > 0 ? ReadProcCpuSeconds(pid) : -1;
  const double client_cpu_start = ReadProcCpuSeconds(0);
  RunLoad(lo, issue, &create_rec);
  uint64_t created = 0;
  for (int e = 0; e < events; ++e) created += created_ok[e].load() ? 1 : 0;

  // Drain: until every ready stream that is still open has every created event, or the drain timeout.
  {
    const auto deadline = Clock::now() + *drain;
    while (Clock::now() < deadline) {
      uint64_t expected = 0;
      for (const auto& s : states) {
        if (s->probe_ns.load() != 0 && !s->done.load()) expected += created;
      }
      if (sc.delivered.load() >= expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const double measured_s = std::chrono::duration<double>(Clock::now() - measure_start).count();
  const double server_cpu_s = pid > 0 ? ReadProcCpuSeconds(pid) - server_cpu_start : -1;
  const double client_cpu_s = ReadProcCpuSeconds(0) - client_cpu_start;
  sampler.Stop();
  const long rss_end_kb = ReadProcStatusKb(pid);
  const long hwm_kb = ReadProcStatusKb(pid, "VmHWM");
  const long client_rss_end_kb = ReadProcStatusKb(0);

  // Streams that ended during the measurement are "lost"; their codes are reported.
  std::map<std::string, uint64_t> lost_codes;
  std::map<std::string, std::string> lost_samples;
  int held_at_end = 0, lost = 0, never_ready = 0;
  uint64_t expected = 0, missing = 0;
  std::vector<int64_t> from_done, from_send;
  from_done.reserve(static_cast<size_t>(ready) * created);
  from_send.reserve(static_cast<size_t>(ready) * created);
  for (int i = 0; i < streams; ++i) {
    StreamState& s = *states[i];
    if (s.probe_ns.load() == 0) {
      ++never_ready;
      if (s.done.load()) {
        const std::string k = "open:" + CodeName(s.result.code);
        ++lost_codes[k];
        lost_samples.emplace(k, s.result.message.substr(0, 200));
      }
      continue;
    }
    if (s.done.load()) {
      ++lost;
      const std::string k = "during:" + CodeName(s.result.code);
      ++lost_codes[k];
      lost_samples.emplace(k, s.result.message.substr(0, 200));
    } else {
      ++held_at_end;
    }
    for (int e = 0; e < events; ++e) {
      if (!created_ok[e].load()) continue;
      ++expected;
      const int64_t got = sc.Recv(i, e).load();
      if (got == 0) {
        ++missing;
        continue;
      }
      from_done.push_back(std::max<int64_t>(0, got - done_ns[e].load()));
      from_send.push_back(std::max<int64_t>(0, got - send_ns[e].load()));
    }
  }
  const uint64_t delivered_total = from_done.size();

  Report report;
  report.mode = "watch";
  report.transport = transport;
  report.target = TargetOf(*opts);
  report.target_rate = *event_rate;
  report.duration_s = measured_s;
  report.sent = expected;
  report.ok = delivered_total;
  report.achieved_rate = measured_s > 0 ? delivered_total / measured_s : 0;
  report.latency = Summarize(from_done);
  report.errors = lost_codes;
  report.error_samples = lost_samples;
  if (missing > 0) report.errors["MISSING_DELIVERY"] = missing;
  for (const auto& [k, v] : create_rec.errors()) report.errors["create:" + k] = v;
  for (const auto& [k, v] : create_rec.samples()) report.error_samples["create:" + k] = v;

  LatencySummary send_summary = Summarize(from_send);
  std::vector<int64_t> create_lat = create_rec.TakeLatencies();
  LatencySummary create_summary = Summarize(create_lat);
  auto& x = report.extra;
  x["latency_basis"] = "receipt minus CreateRun completion (clamped at 0)";
  x["streams_requested"] = streams;
  x["streams_answered"] = sc.opened.load();
  x["streams_ready"] = ready;
  x["streams_never_ready"] = never_ready;
  x["streams_held_at_end"] = held_at_end;
  x["streams_lost_during_run"] = lost;
  x["open_seconds"] = std::round(open_s * 100) / 100;
  x["events_created"] = created;
  x["events_requested"] = events;
  x["deliveries_expected"] = expected;
  x["deliveries_missing"] = missing;
  x["duplicate_receipts"] = sc.duplicates.load();
  x["messages_received"] = sc.messages.load();
  auto r3 = [](double v) { return std::round(v * 1000) / 1000; };
  x["delivery_from_send_ms"] = {{"p50", r3(send_summary.p50_ms)}, {"p99", r3(send_summary.p99_ms)},
                                {"max", r3(send_summary.max_ms)}};
  x["create_latency_ms"] = {{"p50", r3(create_summary.p50_ms)}, {"p99", r3(create_summary.p99_ms)},
                            {"max", r3(create_summary.max_ms)}};
  x["server_cpu_seconds_measured"] = r3(server_cpu_s);
  x["server_cpu_us_per_delivery"] =
      delivered_total && server_cpu_s >= 0 ? std::round(server_cpu_s * 1e6 / delivered_total * 10) / 10 : 0.0;
  x["client_cpu_seconds_measured"] = r3(client_cpu_s);
  x["server_pid"] = pid;
  x["server_rss_mb_before_open"] = Mb(rss_before_kb);
  x["server_rss_mb_held"] = Mb(rss_held_kb);
  x["server_rss_mb_peak_during_events"] = Mb(std::max(sampler.max_kb(), rss_end_kb));
  x["server_rss_mb_end"] = Mb(rss_end_kb);
  x["server_vmhwm_mb"] = Mb(hwm_kb);
  x["client_rss_mb_held"] = Mb(client_rss_held_kb);
  x["client_rss_mb_end"] = Mb(client_rss_end_kb);
  x["nofile_limit"] = nofile;
  {
    std::lock_guard<std::mutex> lock(probe_mu);
    if (probe_code.load() > 0) x["probe_error"] = CodeName(probe_code.load()) + ": " + probe_message;
  }

  if (connect_client) connect_client->CancelWatches(std::chrono::seconds(10));
  if (grpc_client) grpc_client->CancelWatches(std::chrono::seconds(10));
  return report;
}

}  // namespace flyte::loadgen
