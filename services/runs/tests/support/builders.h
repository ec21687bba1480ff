#pragma once
// Builders for runs-service tests: plausible actions, events and tasks with every field filled, so round-trip
// checks cover the whole row.
#include <chrono>
#include <functional>
#include <string>

#include "domain/action.h"

namespace flyte::runs::test {

inline TimePoint At(int64_t seconds) { return TimePoint(std::chrono::seconds(1'700'000'000 + seconds)); }

// Root action "a0" of run `run` in testorg/proj/dev, QUEUED, created at At(created_s).
Action MakeRun(const std::string& run, int64_t created_s = 0, const std::string& project = "proj");
// Child action `name` under `parent` in `run`.
Action MakeChild(const std::string& run, const std::string& name, const std::string& parent, int64_t created_s = 1);
ActionKey KeyOf(const std::string& run, const std::string& name = kRootActionName,
                const std::string& project = "proj");
ActionEvent MakeEvent(uint32_t attempt, Phase phase, int64_t at_s);
Task MakeTask(const std::string& name, const std::string& version, int64_t created_s,
              const std::string& project = "proj");

// Polls `pred` every 10 ms until it holds or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace flyte::runs::test
