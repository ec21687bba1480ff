// The RunService modes' shared helpers (scenario_support.h) and the public ones of scenarios.h: the CreateRun
// they send, the run name prefix, and /proc readings.
#include "scenario_support.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "absl/status/status.h"

namespace flyte::loadgen {
namespace {

namespace wf = flyteidl2::workflow;
using Clock = std::chrono::steady_clock;

// Flags every mode understands.
const std::vector<std::string> kCommonFlags = {"target",  "transport", "org",     "project",     "domain",
                                               "timeout", "json",      "connections", "channels", "io-threads",
                                               "quiet"};

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::vector<std::string> With(std::vector<std::string> extra) {
  extra.insert(extra.end(), kCommonFlags.begin(), kCommonFlags.end());
  return extra;
}

Scope ScopeFrom(const Flags& f) {
  return Scope{f.Str("org", "local"), f.Str("project", "flytesnacks"), f.Str("domain", "development")};
}

absl::StatusOr<ClientOptions> ClientOptionsFrom(const Flags& f, int default_connections) {
  ClientOptions o;
  const std::string target = f.Str("target", "127.0.0.1:8090");
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("--target wants host:port");
  o.host = target.substr(0, colon);
  o.port = std::atoi(target.c_str() + colon + 1);
  if (o.port <= 0) return absl::InvalidArgumentError("--target has no valid port");
  auto conns = f.Num("connections", default_connections);
  auto chans = f.Num("channels", 4);
  auto threads = f.Num("io-threads", 2);
  auto timeout = f.Dur("timeout", "10s");
  for (const absl::Status& s : {conns.status(), chans.status(), threads.status(), timeout.status()}) {
    if (!s.ok()) return s;
  }
  o.connections = static_cast<int>(*conns);
  o.channels = static_cast<int>(*chans);
  o.io_threads = static_cast<int>(*threads);
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  return o;
}

absl::StatusOr<std::unique_ptr<RunsClient>> MakeClient(const std::string& transport, const ClientOptions& o) {
  try {
    if (transport == "grpc") return MakeGrpcClient(o);
    if (transport == "connect") return MakeConnectClient(o);
  } catch (const std::exception& e) {
    return absl::UnavailableError(std::string("cannot set up the client: ") + e.what());
  }
  return absl::InvalidArgumentError("--transport must be grpc or connect, got '" + transport + "'");
}

std::string TargetOf(const ClientOptions& o) { return o.host + ":" + std::to_string(o.port); }

std::vector<std::string> WarmUp(RunsClient* client, const Scope& scope, const std::string& prefix, int n,
                                Recorder* errors) {
  std::vector<std::string> names;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < n && Clock::now() < deadline; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < 16; });
      ++in_flight;
    }
    std::string name = fmt::format("{}-w{}", prefix, i);
    auto req = std::make_shared<wf::CreateRunRequest>(MakeCreateRun(scope, name));
    client->Unary(Rpc::kCreateRun, req, std::make_shared<wf::CreateRunResponse>(),
                  [&, name](const CallResult& r) {
                    if (!r.ok()) errors->Record(0, r);
                    std::lock_guard<std::mutex> lock(mu);
                    if (r.ok()) names.push_back(name);
                    --in_flight;
                    cv.notify_all();
                  });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  return names;
}

Report BaseReport(const std::string& mode, const RunsClient& client, const ClientOptions& o, double rate) {
  Report r;
  r.mode = mode;
  r.transport = client.name();
  r.target = TargetOf(o);
  r.target_rate = rate;
  return r;
}

LoadResult RunMeasured(const Flags& f, const LoadOptions& lo, const IssueFn& issue, Recorder* rec, Report* report) {
  const int pid = static_cast<int>(f.Num("server-pid", 0).value_or(0));
  const double cpu0 = pid > 0 ? ReadProcCpuSeconds(pid) : -1;
  LoadResult lr = RunLoad(lo, issue, rec);
  if (pid > 0) {
    const double cpu = ReadProcCpuSeconds(pid) - cpu0;
    const uint64_t ok = rec->ok();
    report->extra["server_cpu_seconds"] = std::round(cpu * 1000) / 1000;
    report->extra["server_cpu_us_per_ok_call"] = ok ? std::round(cpu * 1e6 / ok * 10) / 10 : 0.0;
    report->extra["server_rss_mb_end"] = std::round(ReadProcStatusKb(pid) / 102.4) / 10;
  }
  return lr;
}

void Finish(Report* report, Recorder* rec, const LoadResult& lr) {
  report->sent = lr.sent;
  report->ok = rec->ok();
  report->duration_s = lr.elapsed_s;
  report->achieved_rate = lr.elapsed_s > 0 ? static_cast<double>(report->ok) / lr.elapsed_s : 0;
  std::vector<int64_t> lat = rec->TakeLatencies();
  report->latency = Summarize(lat);
  report->errors = rec->errors();
  report->error_samples = rec->samples();
}

absl::StatusOr<FixedRateFlags> RateFlags(const Flags& f, double default_rate) {
  auto rate = f.Num("rate", default_rate);
  auto duration = f.Dur("duration", "10s");
  auto conc = f.Num("concurrency", 32);
  for (const absl::Status& s : {rate.status(), duration.status(), conc.status()}) {
    if (!s.ok()) return s;
  }
  return FixedRateFlags{*rate, *duration, static_cast<int>(*conc)};
}

wf::CreateRunRequest MakeCreateRun(const Scope& scope, const std::string& run_name) {
  wf::CreateRunRequest req;
  auto* id = req.mutable_run_id();
  id->set_org(scope.org);
  id->set_project(scope.project);
  id->set_domain(scope.domain);
  id->set_name(run_name);
  auto* spec = req.mutable_task_spec();
  spec->set_short_name("noop");
  auto* tmpl = spec->mutable_task_template();
  auto* tid = tmpl->mutable_id();
  tid->set_resource_type(flyteidl2::core::TASK);
  tid->set_org(scope.org);
  tid->set_project(scope.project);
  tid->set_domain(scope.domain);
  tid->set_name("loadgen.noop");
  tid->set_version("v1");
  tmpl->set_type("python");
  tmpl->mutable_interface();
  auto* c = tmpl->mutable_container();
  c->set_image("python:3.12-slim");
  c->add_args("true");
  return req;
}

std::string RunNamePrefix() {
  static const std::string prefix = [] {
    std::random_device rd;
    std::mt19937_64 gen(rd() ^ static_cast<uint64_t>(NowNs()) ^ static_cast<uint64_t>(getpid()));
    const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string p = "lg";
    for (int i = 0; i < 6; ++i) p.push_back(digits[gen() % 36]);
    return p;
  }();
  return prefix;
}

long ReadProcStatusKb(int pid, const std::string& field) {
  std::ifstream in(pid > 0 ? fmt::format("/proc/{}/status", pid) : std::string("/proc/self/status"));
  std::string line;
  const std::string key = field + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  }
  return -1;
}

double ReadProcCpuSeconds(int pid) {
  std::ifstream in(pid > 0 ? fmt::format("/proc/{}/stat", pid) : std::string("/proc/self/stat"));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are the
  // 14th and 15th fields overall, i.e. the 12th and 13th after it.
  const size_t paren = all.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(all.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<long>(rl.rlim_cur);
}

}  // namespace flyte::loadgen
