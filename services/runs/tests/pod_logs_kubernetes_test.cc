// The Kubernetes log source against a real kube-apiserver (scripts/k8s-testenv.sh up; FLYTE_TEST_KUBECONFIG), with
// kwok as the stand-in kubelet: GET pods/<pod>/log?follow=true&timestamps=true goes through the API server to kwok,
// which serves every container's log from the CRI-format file <testenv dir>/pod-logs.cri. The attempt's Pod is found
// by kube::PodName(run, action, attempt) in the configured namespace.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "flyte/kube/client.h"
#include "flyte/kube/task_action.h"
#include "flyte/kube/testing/test_cluster.h"
#include "logs/pod_log_source.h"

namespace flyte::runs {
namespace {

namespace kt = kube::testing;
using namespace std::chrono_literals;

// kwok serves this file as every container's log.
std::filesystem::path PodLogFile() {
  return std::filesystem::path(kt::AdminKubeconfigPath()).parent_path() / "pod-logs.cri";
}

AttemptLogRef Attempt(const std::string& run, uint32_t attempt) {
  return AttemptLogRef{ActionKey{RunKey{"org", "proj", "dev", run}, "a0"}, attempt, ""};
}

std::string PodNameOf(const AttemptLogRef& a) {
  return kube::PodName(kube::ActionRef{a.key.run.org, a.key.run.project, a.key.run.domain, a.key.run.name, a.key.name},
                       static_cast<int>(a.attempt));
}

// Reads until `done` says so or `budget` passes; returns every line read. The first read of a fresh test cluster
// waits for the scheduler and kwok to run the Pod and for the API server's first connection to kwok's log server,
// which took over 30 s once on a loaded machine.
std::vector<LogLine> ReadUntil(LogReader& reader, bool writer_done,
                               const std::function<bool(const std::vector<LogLine>&, bool)>& done,
                               std::chrono::seconds budget = 90s) {
  std::vector<LogLine> lines;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<bool> exhausted = reader.Read(writer_done, 64 * 1024, &lines);
    REQUIRE(exhausted.ok());
    if (done(lines, *exhausted)) break;
    std::this_thread::sleep_for(50ms);
  }
  return lines;
}

TEST_CASE("a Pod's log through the API server: its lines with the kubelet's timestamps, its primary container",
          "[kubernetes][logs]") {
  std::unique_ptr<kube::Client> admin = kt::AdminClient();
  kt::TestNamespace ns(*admin, "logs");
  {
    std::ofstream out(PodLogFile(), std::ios::trunc);
    out << "2026-12-06T05:28:07.123456789Z stdout F hello from the pod\n"
        << "2026-12-06T05:28:08.000000000Z stderr F and from its stderr\n";
  }
  AttemptLogRef attempt = Attempt("r1", 2);
  kube::Json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", PodNameOf(attempt)}, {"annotations", {{"flyte.org/primary-container", "main"}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"containers", kube::Json::array({{{"name", "sidecar"}, {"image", "busybox"}},
                                          {{"name", "main"}, {"image", "python:3.11-slim"}}})}}}};
  REQUIRE(admin->Create(kube::kPods, ns.name(), pod).ok());

  PodLogSourceOptions options;
  options.ns = ns.name();
  options.retry_interval = 100ms;
  options.end_grace = 500ms;
  PodLogSource source(*admin, options);
  absl::StatusOr<std::unique_ptr<LogReader>> reader = source.Open(attempt);
  REQUIRE(reader.ok());
  // While the attempt runs: the lines so far (the Pod is retried until kwok runs it).
  std::vector<LogLine> lines =
      ReadUntil(**reader, false, [](const std::vector<LogLine>& l, bool) { return l.size() >= 2; });
  if (lines.size() < 2) {  // what the Pod looked like, for the failure report
    absl::StatusOr<kube::Json> seen = admin->Get(kube::kPods, ns.name(), PodNameOf(attempt));
    WARN((seen.ok() ? seen->dump() : std::string(seen.status().message())));
  }
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0].text == "hello from the pod\n");
  CHECK(lines[1].text == "and from its stderr\n");
  CHECK(common::ToUnixMicros(lines[0].time) == 1796534887123456);
  CHECK(lines[0].container == "main");
  CHECK(lines[0].pod_name == PodNameOf(attempt));
  CHECK(lines[0].pod_namespace == ns.name());

  // Written later: it arrives on the same follow.
  std::ofstream(PodLogFile(), std::ios::app) << "2026-12-06T05:28:09.000000000Z stdout F written later\n";
  std::vector<LogLine> later =
      ReadUntil(**reader, false, [](const std::vector<LogLine>& l, bool) { return !l.empty(); });
  REQUIRE(later.size() == 1);
  CHECK(later[0].text == "written later\n");

  // The attempt is over: the log ends (kwok keeps the follow open; nothing more comes).
  bool ended = false;
  ReadUntil(**reader, true, [&](const std::vector<LogLine>&, bool exhausted) { return ended = exhausted; });
  CHECK(ended);
}

TEST_CASE("an attempt whose Pod never existed: an empty log once the attempt is over", "[kubernetes][logs]") {
  std::unique_ptr<kube::Client> admin = kt::AdminClient();
  kt::TestNamespace ns(*admin, "logs");
  PodLogSourceOptions options;
  options.ns = ns.name();
  options.retry_interval = 100ms;
  options.end_grace = 300ms;
  PodLogSource source(*admin, options);
  absl::StatusOr<std::unique_ptr<LogReader>> reader = source.Open(Attempt("nopod", 1));
  REQUIRE(reader.ok());
  // Still running: nothing, and not over.
  std::vector<LogLine> lines;
  absl::StatusOr<bool> exhausted = (*reader)->Read(false, 1024, &lines);
  REQUIRE(exhausted.ok());
  CHECK_FALSE(*exhausted);
  bool ended = false;
  lines = ReadUntil(**reader, true, [&](const std::vector<LogLine>&, bool e) { return ended = e; });
  CHECK(ended);
  CHECK(lines.empty());
}

}  // namespace
}  // namespace flyte::runs
