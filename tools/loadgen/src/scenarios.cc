// The RunService request modes: create, get and list at a fixed rate (open loop) or a fixed concurrency (closed
// loop). The watch mode is in watch_scenario.cc.
#include "scenarios.h"

#include <algorithm>
#include <atomic>
#include <random>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "client.h"
#include "load.h"
#include "scenario_support.h"

namespace flyte::loadgen {
namespace {

namespace wf = flyteidl2::workflow;

}  // namespace

absl::StatusOr<Report> RunCreate(const Flags& f) {
  if (auto s = f.CheckKnown(With({"rate", "duration", "concurrency", "server-pid"})); !s.ok()) return s;
  auto rf = RateFlags(f, 0);
  if (!rf.ok()) return rf.status();
  auto opts = ClientOptionsFrom(f, rf->concurrency);
  if (!opts.ok()) return opts.status();
  auto client = MakeClient(f.Str("transport", "grpc"), *opts);
  if (!client.ok()) return client.status();
  const Scope scope = ScopeFrom(f);
  const std::string prefix = RunNamePrefix();

  LoadOptions lo{rf->rate, rf->duration, rf->concurrency};
  Recorder rec;
  IssueFn issue = [&](uint64_t seq, std::function<void(const CallResult&)> done) {
    auto req = std::make_shared<wf::CreateRunRequest>(MakeCreateRun(scope, fmt::format("{}-c{}", prefix, seq)));
    (*client)->Unary(Rpc::kCreateRun, req, std::make_shared<wf::CreateRunResponse>(), std::move(done));
  };
  Report report = BaseReport("create", **client, *opts, rf->rate);
  LoadResult lr = RunMeasured(f, lo, issue, &rec, &report);
  Finish(&report, &rec, lr);
  report.extra["concurrency"] = rf->rate > 0 ? 0 : rf->concurrency;
  report.extra["run_name_prefix"] = prefix;
  return report;
}

absl::StatusOr<Report> RunGet(const Flags& f) {
  if (auto s = f.CheckKnown(With({"rate", "duration", "concurrency", "warmup", "server-pid"})); !s.ok()) return s;
  auto rf = RateFlags(f, 500);
  auto warm = f.Num("warmup", 200);
  if (!rf.ok()) return rf.status();
  if (!warm.ok()) return warm.status();
  auto opts = ClientOptionsFrom(f, rf->concurrency);
  if (!opts.ok()) return opts.status();
  auto client = MakeClient(f.Str("transport", "grpc"), *opts);
  if (!client.ok()) return client.status();
  const Scope scope = ScopeFrom(f);

  Recorder warm_errors;
  std::vector<std::string> names = WarmUp(client->get(), scope, RunNamePrefix() + "g", static_cast<int>(*warm),
                                          &warm_errors);
  if (names.empty()) {
    auto errs = warm_errors.samples();
    return absl::FailedPreconditionError(
        "warm-up created no runs" + (errs.empty() ? "" : ": " + errs.begin()->first + " " + errs.begin()->second));
  }
  std::shuffle(names.begin(), names.end(), std::mt19937(42));

  LoadOptions lo{rf->rate, rf->duration, rf->concurrency};
  Recorder rec;
  IssueFn issue = [&](uint64_t seq, std::function<void(const CallResult&)> done) {
    auto req = std::make_shared<wf::GetRunDetailsRequest>();
    auto* id = req->mutable_run_id();
    id->set_org(scope.org);
    id->set_project(scope.project);
    id->set_domain(scope.domain);
    id->set_name(names[seq % names.size()]);
    (*client)->Unary(Rpc::kGetRunDetails, req, std::make_shared<wf::GetRunDetailsResponse>(), std::move(done));
  };
  Report report = BaseReport("get", **client, *opts, rf->rate);
  LoadResult lr = RunMeasured(f, lo, issue, &rec, &report);
  Finish(&report, &rec, lr);
  report.extra["warmup_runs"] = names.size();
  return report;
}

absl::StatusOr<Report> RunList(const Flags& f) {
  if (auto s = f.CheckKnown(With({"rate", "duration", "concurrency", "warmup", "limit", "server-pid"})); !s.ok()) return s;
  auto rf = RateFlags(f, 500);
  auto warm = f.Num("warmup", 200);
  auto limit = f.Num("limit", 50);
  if (!rf.ok()) return rf.status();
  if (!warm.ok()) return warm.status();
  if (!limit.ok()) return limit.status();
  auto opts = ClientOptionsFrom(f, rf->concurrency);
  if (!opts.ok()) return opts.status();
  auto client = MakeClient(f.Str("transport", "grpc"), *opts);
  if (!client.ok()) return client.status();
  const Scope scope = ScopeFrom(f);

  Recorder warm_errors;
  std::vector<std::string> names = WarmUp(client->get(), scope, RunNamePrefix() + "l", static_cast<int>(*warm),
                                          &warm_errors);
  std::atomic<uint64_t> listed{0};
  std::atomic<uint64_t> pages{0};

  LoadOptions lo{rf->rate, rf->duration, rf->concurrency};
  Recorder rec;
  IssueFn issue = [&](uint64_t, std::function<void(const CallResult&)> done) {
    auto req = std::make_shared<wf::ListRunsRequest>();
    req->mutable_request()->set_limit(static_cast<uint32_t>(*limit));
    auto* p = req->mutable_project_id();
    p->set_organization(scope.org);
    p->set_name(scope.project);
    p->set_domain(scope.domain);
    auto resp = std::make_shared<wf::ListRunsResponse>();
    (*client)->Unary(Rpc::kListRuns, req, resp, [&, resp, done](const CallResult& r) {
      if (r.ok()) {
        listed.fetch_add(resp->runs_size());
        pages.fetch_add(1);
      }
      done(r);
    });
  };
  Report report = BaseReport("list", **client, *opts, rf->rate);
  LoadResult lr = RunMeasured(f, lo, issue, &rec, &report);
  Finish(&report, &rec, lr);
  report.extra["warmup_runs"] = names.size();
  report.extra["limit"] = *limit;
  report.extra["mean_runs_per_page"] = pages.load() ? static_cast<double>(listed.load()) / pages.load() : 0.0;
  return report;
}

}  // namespace flyte::loadgen
