#pragma once
// Drives calls at a fixed rate (open loop) or as fast as a fixed number of in-flight calls allows (closed loop).
//
// Open loop schedules call i at start + i/rate and measures its latency from that scheduled time, not from when
// it was actually sent, so a slow server cannot hide its stalls by slowing the client down (coordinated omission).
#include <chrono>
#include <cstdint>
#include <functional>

#include "connect_wire.h"
#include "stats.h"

namespace flyte::loadgen {

// Starts call number `seq`; must call `done` exactly once, from any thread, and must not block.
using IssueFn = std::function<void(uint64_t seq, std::function<void(const CallResult&)> done)>;

struct LoadOptions {
  double rate = 0;                                  // calls/s; 0 = closed loop with `concurrency` in flight
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  int concurrency = 32;                             // closed loop only
  uint64_t max_outstanding = 20000;                 // open loop: beyond this a call is counted as CLIENT_BACKLOG
  std::chrono::nanoseconds drain = std::chrono::seconds(15);  // wait for in-flight calls after the duration
};

struct LoadResult {
  uint64_t sent = 0;
  uint64_t unfinished = 0;   // still in flight when the drain ended (counted as DEADLINE_EXCEEDED)
  double elapsed_s = 0;      // start to last completion (or end of drain)
};

// Blocks until the run and its drain are over. Thread-safe use of `recorder` is the caller's concern only in
// that it must outlive late completions; RunLoad keeps its own state alive for them.
LoadResult RunLoad(const LoadOptions& options, const IssueFn& issue, Recorder* recorder);

}  // namespace flyte::loadgen
