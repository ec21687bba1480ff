// The gRPC clients and the StateReporter against the StateService test double on a real port.
#include <catch2/catch.hpp>

#include "clients/grpc_state_client.h"
#include "clients/state_reporter.h"
#include "support/service_doubles.h"

namespace flyte::executor {
namespace {
using namespace std::chrono_literals;

StateReport Make(const std::string& action, int attempt, Phase phase, bool final = false) {
  StateReport r;
  r.transition.key = ActionKey{"testorg", "proj", "dev", "rtest", action};
  r.transition.attempt = attempt;
  r.transition.phase = phase;
  r.transition.time = common::Clock::System().Now();
  r.transition.final = final;
  r.parent_action_name = "a0";
  return r;
}

TEST_CASE("an illegal transition is refused in-band, logged and skipped; the next report follows",
          "[executor][clients]") {
  testing::ServiceDoubles d;
  GrpcStateClient client(d.Channel());
  StateReporter reporter(client);
  std::vector<absl::StatusCode> outcomes(3, absl::StatusCode::kUnknown);
  reporter.Report(Make("a1", 1, Phase::kSucceeded), [&](const absl::Status& s) { outcomes[0] = s.code(); });
  reporter.Report(Make("a1", 1, Phase::kRunning), [&](const absl::Status& s) { outcomes[1] = s.code(); });
  reporter.Report(Make("a1", 1, Phase::kSucceeded, true), [&](const absl::Status& s) { outcomes[2] = s.code(); });
  REQUIRE(reporter.Flush(10s));
  CHECK(outcomes[0] == absl::StatusCode::kOk);
  CHECK(outcomes[1] == absl::StatusCode::kFailedPrecondition);
  CHECK(outcomes[2] == absl::StatusCode::kOk);
  CHECK(d.state.rejected() == 1);
}

TEST_CASE("reports survive an outage and keep their order per action", "[executor][clients]") {
  testing::ServiceDoubles d;
  GrpcStateClient client(d.Channel());
  StateReporter reporter(client, StateReporterOptions{2, 20ms, 100ms});
  d.state.FailNextPuts(5);
  for (const char* a : {"a1", "a2", "a3"}) {
    reporter.Report(Make(a, 1, Phase::kInitializing));
    reporter.Report(Make(a, 1, Phase::kRunning));
    reporter.Report(Make(a, 1, Phase::kFailed));
    reporter.Report(Make(a, 2, Phase::kInitializing));
    reporter.Report(Make(a, 2, Phase::kSucceeded, true));
  }
  REQUIRE(reporter.Flush(20s));
  for (const char* a : {"a1", "a2", "a3"}) {
    CHECK(d.state.Trace(a) == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:SUCCEEDED");
  }
  CHECK(reporter.retries() >= 5);
  CHECK(d.state.batches() > 0);
}

TEST_CASE("a runs-service without the batch API gets one Put per report, in order", "[executor][clients]") {
  testing::ServiceDoubles d;
  d.state.RefuseBatches(true);
  GrpcStateClient client(d.Channel());
  StateReporter reporter(client);
  int ok = 0;
  for (const char* a : {"a1", "a2"}) {
    reporter.Report(Make(a, 1, Phase::kInitializing), [&](const absl::Status& s) { ok += s.ok(); });
    reporter.Report(Make(a, 1, Phase::kRunning), [&](const absl::Status& s) { ok += s.ok(); });
    reporter.Report(Make(a, 1, Phase::kSucceeded, true), [&](const absl::Status& s) { ok += s.ok(); });
  }
  REQUIRE(reporter.Flush(10s));
  CHECK(ok == 6);
  CHECK(d.state.batches() == 0);
  for (const char* a : {"a1", "a2"}) CHECK(d.state.Trace(a) == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
}

TEST_CASE("shutdown hands unsent reports back as cancelled", "[executor][clients]") {
  testing::ServiceDoubles d;
  GrpcStateClient client(d.Channel());
  StateReporter reporter(client, StateReporterOptions{1, 50ms, 50ms});
  d.state.FailNextPuts(1000000);
  absl::StatusCode got = absl::StatusCode::kUnknown;
  reporter.Report(Make("a1", 1, Phase::kSucceeded, true), [&](const absl::Status& s) { got = s.code(); });
  std::this_thread::sleep_for(120ms);
  reporter.Shutdown();
  CHECK(got == absl::StatusCode::kCancelled);
}

TEST_CASE("the state JSON is a flyteidl2 ActionEvent with what runs-service reads", "[executor][clients]") {
  ActionTransition t;
  t.key = ActionKey{"o", "p", "d", "r", "a1"};
  t.attempt = 2;
  t.phase = Phase::kFailed;
  t.time = common::FromUnixMicros(1'700'000'000'123'456);
  t.error = ActionError{"NonZeroExit", "exit 3", ErrorKind::kUser, true};
  t.cluster_event = "process exited with code 3";
  t.stdout_uri = "file:///x/stdout.log";
  flyteidl2::workflow::ActionEvent e;
  REQUIRE(google::protobuf::util::JsonStringToMessage(ToActionEventJson(t), &e).ok());
  CHECK(e.id().run().name() == "r");
  CHECK(e.id().name() == "a1");
  CHECK(e.attempt() == 2);
  CHECK(e.phase() == flyteidl2::common::ACTION_PHASE_FAILED);
  CHECK(e.updated_time().seconds() == 1'700'000'000);
  CHECK(e.updated_time().nanos() == 123'456'000);
  CHECK(e.error_info().code() == "NonZeroExit");
  CHECK(e.error_info().kind() == flyteidl2::workflow::ErrorInfo::KIND_USER);
  REQUIRE(e.cluster_events_size() == 1);
  CHECK(e.cluster_events(0).message() == "process exited with code 3");
  REQUIRE(e.log_info_size() == 1);
  CHECK(e.log_info(0).uri() == "file:///x/stdout.log");

  // The Kubernetes runtime names the attempt's Pod log instead: runs-service then reports logs_available.
  ActionTransition pod = t;
  pod.stdout_uri.clear();
  pod.pod_log_uri = "k8s://flyte/pods/r-a1-2/log";
  flyteidl2::workflow::ActionEvent pe;
  REQUIRE(google::protobuf::util::JsonStringToMessage(ToActionEventJson(pod), &pe).ok());
  REQUIRE(pe.log_info_size() == 1);
  CHECK(pe.log_info(0).name() == "pod");
  CHECK(pe.log_info(0).uri() == "k8s://flyte/pods/r-a1-2/log");
}

}  // namespace
}  // namespace flyte::executor
