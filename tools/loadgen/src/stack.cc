// The whole-stack modes (stack.h): stack-latency, chain and fan-out, on the helpers of stack_common.h and the
// trackers of stack_tracking.h.
#include "stack.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "stack_common.h"
#include "stack_tracking.h"

namespace flyte::loadgen {

double Percentile(std::vector<double>* values, double p) {
  if (values->empty()) return 0;
  std::sort(values->begin(), values->end());
  const double rank = std::ceil(p / 100.0 * values->size());
  const size_t idx = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values->size()))) - 1;
  return (*values)[idx];
}

absl::StatusOr<nlohmann::json> RunStackLatency(const Flags& f) {
  auto c = MakeCommon(f, {"runs", "rate", "burst", "concurrency"});
  if (!c.ok()) return c.status();
  const int runs = static_cast<int>(f.Num("runs", 200).value_or(200));
  const double rate = f.Num("rate", 10).value_or(10);
  const int burst = static_cast<int>(f.Num("burst", 1000).value_or(1000));
  const int conc = static_cast<int>(f.Num("concurrency", 16).value_or(16));
  const std::string prefix = RunNamePrefix();
  RssSampler rss(c->executor_pid, c->rss_every);
  Tracker tracker(&rss);
  RunsWatch watch(*c, &tracker);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the stream open before the first run

  nlohmann::json out;
  out["mode"] = "stack-latency";
  out["target"] = c->target;
  out["command"] = c->command;
  // Phase 1: paced runs, latency CreateRun -> SUCCEEDED seen on WatchRuns.
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  auto next = Clock::now();
  for (int i = 0; i < runs; ++i) {
    std::this_thread::sleep_until(next);
    next += gap;
    const std::string name = fmt::format("{}l{}", prefix, i);
    tracker.Start(name);
    if (auto s = CreateRun(*c, name, c->command); !s.ok()) return s;
  }
  if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
    return absl::DeadlineExceededError(fmt::format("{} paced runs not done", tracker.pending()));
  }
  out["latency"] = LatencyJson(tracker.TakeLatencies());
  out["latency"]["rate_per_s"] = rate;
  Print(*c, fmt::format("stack-latency: {} runs at {}/s, CreateRun -> SUCCEEDED (WatchRuns): {}\n", runs, rate,
                        LatencyText(out["latency"])));
  // Phase 2: burst, time until all SUCCEEDED.
  const auto t0 = Clock::now();
  auto s = Parallel(burst, conc, [&](int i) {
    const std::string name = fmt::format("{}b{}", prefix, i);
    tracker.Start(name);
    auto st = CreateRun(*c, name, c->command);
    if (!st.ok()) tracker.Forget(name);
    return st;
  });
  const double create_s = Seconds(Clock::now() - t0);
  if (!s.ok()) return s;
  if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
    return absl::DeadlineExceededError(fmt::format("{} burst runs not done", tracker.pending()));
  }
  const double total_s = Seconds(tracker.last_done() - t0);
  out["burst"] = {{"runs", burst},
                  {"concurrency", conc},
                  {"create_seconds", create_s},
                  {"seconds_to_all_succeeded", total_s},
                  {"actions_per_second", burst / total_s},
                  {"failed", tracker.failed()},
                  {"latency", LatencyJson(tracker.TakeLatencies())}};
  rss.Final(tracker.completed());
  out["executor_rss"] = rss.ToJson();
  Print(*c, fmt::format("burst: {} runs created in {:.2f} s, all SUCCEEDED after {:.2f} s -> {:.1f} actions/s "
                        "(failed {})\n",
                        burst, create_s, total_s, burst / total_s, tracker.failed()) +
                rss.ToText());
  return out;
}

// The frame of a chain or fan-out benchmark: a parent run held RUNNING, a StateService.Watch on its children
// (past the sentinel, so no child's update is missed) feeding a Tracker, and the parent aborted once `body` is
// done, whatever it returned. The sampler is made after the parent starts, so its first sample excludes it.
using ParentBody =
    std::function<absl::Status(const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss)>;

absl::Status WithWatchedParent(const Common& c, const std::string& run_name, const ParentBody& body) {
  auto parent = StartParent(c, run_name);
  if (!parent.ok()) return parent.status();
  RssSampler rss(c.executor_pid, c.rss_every);
  Tracker tracker(&rss);
  absl::Status result;
  {
    StateWatch watch(c, parent->action, &tracker);
    if (!tracker.WaitSentinel(Clock::now() + std::chrono::seconds(10))) {
      result = absl::DeadlineExceededError("no sentinel on StateService.Watch");
    } else {
      result = body(*parent, watch, tracker, rss);
    }
  }
  AbortParent(c, *parent);
  return result;
}

absl::StatusOr<nlohmann::json> RunChain(const Flags& f) {
  auto c = MakeCommon(f, {"steps"});
  if (!c.ok()) return c.status();
  const int steps = static_cast<int>(f.Num("steps", 500).value_or(500));
  nlohmann::json out;
  absl::Status result = WithWatchedParent(
      *c, RunNamePrefix() + "chain",
      [&](const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss) -> absl::Status {
        const auto t0 = Clock::now();
        for (int i = 0; i < steps; ++i) {
          const std::string name = fmt::format("c{}", i);
          tracker.Start(name);
          if (absl::Status s = EnqueueChild(*c, parent, name); !s.ok()) return s;
          if (!tracker.WaitFor(name, Clock::now() + c->wait_timeout)) {
            return absl::DeadlineExceededError("chain step " + name + " not done: " + watch.error());
          }
        }
        const double total = Seconds(Clock::now() - t0);
        out["mode"] = "chain";
        out["target"] = c->target;
        out["command"] = c->command;
        out["steps"] = steps;
        out["total_seconds"] = total;
        out["seconds_per_step"] = total / steps;
        out["failed"] = tracker.failed();
        out["step_latency"] = LatencyJson(tracker.TakeLatencies());
        rss.Final(tracker.completed());
        out["executor_rss"] = rss.ToJson();
        Print(*c, fmt::format("chain: {} sequential children in {:.2f} s -> {:.1f} ms per step (failed {}); "
                              "step: {}\n",
                              steps, total, total / steps * 1000, tracker.failed(),
                              LatencyText(out["step_latency"])) +
                      rss.ToText());
        return absl::OkStatus();
      });
  if (!result.ok()) return result;
  return out;
}

absl::StatusOr<nlohmann::json> RunFanout(const Flags& f) {
  auto c = MakeCommon(f, {"children", "concurrency"});
  if (!c.ok()) return c.status();
  const int children = static_cast<int>(f.Num("children", 6000).value_or(6000));
  const int conc = static_cast<int>(f.Num("concurrency", 8).value_or(8));
  nlohmann::json out;
  absl::Status result = WithWatchedParent(
      *c, RunNamePrefix() + "fan",
      [&](const Parent& parent, const StateWatch& watch, Tracker& tracker, RssSampler& rss) -> absl::Status {
        const auto t0 = Clock::now();
        absl::Status enqueued = Parallel(children, conc, [&](int i) {
          const std::string name = fmt::format("f{}", i);
          tracker.Start(name);
          auto st = EnqueueChild(*c, parent, name);
          if (!st.ok()) tracker.Forget(name);
          return st;
        });
        if (!enqueued.ok()) return enqueued;
        const double enqueue_s = Seconds(Clock::now() - t0);
        if (!tracker.WaitAll(Clock::now() + c->wait_timeout)) {
          return absl::DeadlineExceededError(fmt::format("{} of {} children not done: {}", tracker.pending(),
                                                         children, watch.error()));
        }
        const double total = Seconds(tracker.last_done() - t0);
        out["mode"] = "fanout";
        out["target"] = c->target;
        out["command"] = c->command;
        out["children"] = children;
        out["concurrency"] = conc;
        out["enqueue_seconds"] = enqueue_s;
        out["seconds_to_all_succeeded"] = total;
        out["leaves_per_second"] = children / total;
        out["failed"] = tracker.failed();
        out["child_latency"] = LatencyJson(tracker.TakeLatencies());
        rss.Final(tracker.completed());
        out["executor_rss"] = rss.ToJson();
        Print(*c, fmt::format("fanout: {} children enqueued in {:.2f} s, all done after {:.2f} s -> {:.1f} "
                              "leaves/s (failed {}); enqueue->SUCCEEDED: {}\n",
                              children, enqueue_s, total, children / total, tracker.failed(),
                              LatencyText(out["child_latency"])) +
                      rss.ToText());
        return absl::OkStatus();
      });
  if (!result.ok()) return result;
  return out;
}

}  // namespace flyte::loadgen
