#include "domain/phase.h"

#include <catch2/catch.hpp>

using flyte::runs::CheckTransition;
using flyte::runs::NextActionPhase;
using flyte::runs::Phase;

namespace {
bool Ok(Phase a, Phase b) { return CheckTransition(a, b).ok(); }
}  // namespace

TEST_CASE("forward moves are legal, backward ones are not", "[unit][phase]") {
  CHECK(Ok(Phase::kQueued, Phase::kWaitingForResources));
  CHECK(Ok(Phase::kQueued, Phase::kRunning));
  CHECK(Ok(Phase::kRunning, Phase::kSucceeded));
  CHECK(Ok(Phase::kInitializing, Phase::kFailed));
  CHECK(Ok(Phase::kRunning, Phase::kPaused));
  CHECK_FALSE(Ok(Phase::kRunning, Phase::kQueued));
  CHECK_FALSE(Ok(Phase::kInitializing, Phase::kWaitingForResources));
}

TEST_CASE("same phase is a legal no-op update, even when terminal", "[unit][phase]") {
  CHECK(Ok(Phase::kRunning, Phase::kRunning));
  CHECK(Ok(Phase::kSucceeded, Phase::kSucceeded));
}

TEST_CASE("nothing leaves a terminal phase except a retry", "[unit][phase]") {
  CHECK_FALSE(Ok(Phase::kSucceeded, Phase::kRunning));
  CHECK_FALSE(Ok(Phase::kSucceeded, Phase::kFailed));
  CHECK_FALSE(Ok(Phase::kAborted, Phase::kQueued));
  CHECK_FALSE(Ok(Phase::kRecovered, Phase::kRunning));
  CHECK_FALSE(Ok(Phase::kSucceeded, Phase::kAborted));
  CHECK_FALSE(Ok(Phase::kFailed, Phase::kSucceeded));
  CHECK_FALSE(Ok(Phase::kFailed, Phase::kPaused));
  for (Phase to : {Phase::kQueued, Phase::kWaitingForResources, Phase::kInitializing, Phase::kRunning}) {
    CHECK(Ok(Phase::kFailed, to));
    CHECK(Ok(Phase::kTimedOut, to));
  }
}

TEST_CASE("paused resumes to running or finishes; abort from any live phase", "[unit][phase]") {
  CHECK(Ok(Phase::kPaused, Phase::kRunning));
  CHECK(Ok(Phase::kPaused, Phase::kSucceeded));
  CHECK_FALSE(Ok(Phase::kPaused, Phase::kQueued));
  for (Phase from : {Phase::kQueued, Phase::kWaitingForResources, Phase::kInitializing, Phase::kRunning,
                     Phase::kPaused}) {
    CHECK(Ok(from, Phase::kAborted));
  }
  CHECK_FALSE(Ok(Phase::kRunning, Phase::kUnspecified));
}

TEST_CASE("illegal transitions are kFailedPrecondition naming both phases", "[unit][phase]") {
  absl::Status s = CheckTransition(Phase::kSucceeded, Phase::kRunning);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message().find("ACTION_PHASE_SUCCEEDED") != std::string::npos);
  CHECK(s.message().find("ACTION_PHASE_RUNNING") != std::string::npos);
  CHECK(flyte::runs::IsTerminal(Phase::kRecovered));
  CHECK_FALSE(flyte::runs::IsTerminal(Phase::kPaused));
  CHECK(flyte::runs::PhaseName(Phase::kTimedOut) == "ACTION_PHASE_TIMED_OUT");
}

TEST_CASE("a failed attempt that a retry follows leaves the action where it was", "[unit][phase]") {
  CHECK(*NextActionPhase(Phase::kRunning, Phase::kFailed, false, true) == Phase::kRunning);
  CHECK(*NextActionPhase(Phase::kInitializing, Phase::kTimedOut, false, true) == Phase::kInitializing);
  // Without the flag, or once the action ended, it is an ordinary report.
  CHECK(*NextActionPhase(Phase::kRunning, Phase::kFailed, false, false) == Phase::kFailed);
  CHECK_FALSE(NextActionPhase(Phase::kAborted, Phase::kFailed, false, true).ok());
  // The flag only speaks of failures.
  CHECK(*NextActionPhase(Phase::kRunning, Phase::kSucceeded, false, true) == Phase::kSucceeded);
}

TEST_CASE("a new attempt of a live action never moves it back", "[unit][phase]") {
  CHECK(*NextActionPhase(Phase::kRunning, Phase::kInitializing, true, false) == Phase::kRunning);
  CHECK(*NextActionPhase(Phase::kInitializing, Phase::kRunning, true, false) == Phase::kRunning);
  CHECK(*NextActionPhase(Phase::kRunning, Phase::kSucceeded, true, false) == Phase::kSucceeded);
  // The same attempt still may not go back, and a new attempt of an ended action follows CheckTransition.
  CHECK_FALSE(NextActionPhase(Phase::kRunning, Phase::kInitializing, false, false).ok());
  CHECK_FALSE(NextActionPhase(Phase::kSucceeded, Phase::kInitializing, true, false).ok());
  CHECK(*NextActionPhase(Phase::kFailed, Phase::kInitializing, true, false) == Phase::kInitializing);
}
