#pragma once
// Test helper for ProcessSupervisor users: run one launch to its end.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>

#include "runtime/process_supervisor.h"

namespace flyte::executor::testing {

// Launches `spec` and waits (at most 30 s, else the test fails) for its exit.
inline ProcessExit RunToExit(ProcessSupervisor& sup, LaunchSpec spec) {
  std::promise<ProcessExit> done;
  sup.Launch(std::move(spec), LaunchCallbacks{nullptr, [&](const ProcessExit& e) { done.set_value(e); }});
  auto f = done.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return f.get();
}

}  // namespace flyte::executor::testing
