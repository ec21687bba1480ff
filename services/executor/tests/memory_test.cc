// Completed actions must not accumulate: runners, supervisor entries and callbacks are dropped at the end.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "runtime/local_runtime.h"
#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_CASE("memory stays flat over 2,000 sequential actions", "[executor][memory]") {
  testing::TempDir dir("/dev/shm");
  std::mutex mu;
  std::condition_variable cv;
  int finals = 0;
  int succeeded = 0;
  std::string last;  // the latest transition, to tell where an action got stuck
  LocalRuntime runtime(LocalRuntimeOptions{.data_root = dir / "data", .max_concurrent = 4},
                       [&](const ActionTransition& t) {
                         std::lock_guard<std::mutex> l(mu);
                         last = t.key.action_name + " " + std::to_string(t.attempt) + ":" + PhaseName(t.phase) +
                                " " + t.cluster_event;
                         if (!t.final) return;
                         ++finals;
                         if (t.phase == Phase::kSucceeded) ++succeeded;
                         cv.notify_all();
                       });
  flyteidl2::core::TaskTemplate tmpl;
  tmpl.mutable_container()->add_command("/bin/true");
  tmpl.mutable_container()->add_args("{{.outputPrefix}}");
  const std::string serialized = tmpl.SerializeAsString();

  constexpr int kTotal = 2000;
  constexpr int kWarmup = 200;
  long rss_warm = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kTotal; ++i) {
    ActionToRun a = testing::MakeAction("a" + std::to_string(i), serialized);
    REQUIRE(runtime.Submit(std::move(a)).ok());
    std::unique_lock<std::mutex> l(mu);
    INFO("action " << i << ", last transition: " << last << ", running " << runtime.supervisor().running()
                   << ", waiting " << runtime.supervisor().waiting());
    REQUIRE(cv.wait_for(l, std::chrono::seconds(20), [&] { return finals == i + 1; }));
    if (i + 1 == kWarmup) rss_warm = RssKb();
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long rss_end = RssKb();
  printf("executor memory: RSS after %d actions %ld kB, after %d actions %ld kB (%+ld kB); %.1f actions/s\n",
         kWarmup, rss_warm, kTotal, rss_end, rss_end - rss_warm, kTotal / elapsed);
  CHECK(succeeded == kTotal);
  CHECK(runtime.active() == 0);
  CHECK(runtime.supervisor().running() == 0);
  CHECK(rss_end - rss_warm < 20 * 1024);
}

}  // namespace
}  // namespace flyte::executor
