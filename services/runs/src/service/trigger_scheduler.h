#pragma once
// Fires scheduled triggers: one runs-service replica at a time (the holder of the "trigger-scheduler" lease in the
// runs database) creates a run for every active trigger whose next tick is due, through RunUseCases::CreateRun,
// and records the next tick.
//
// Exactly once per tick: the lease keeps a second replica from firing at the same time, and the run of a tick has
// a name derived from the trigger and the tick (TriggerRunName), so a fire repeated by a replica that lost the
// lease mid-pass, or after a crash between CreateRun and recording the tick, answers kAlreadyExists and creates
// nothing.
//
// Missed ticks (runs-service down, lease gap): flyteidl2 has no catch-up policy field, so the latest missed tick
// is fired once and the ones before it are skipped (docs/runs-service.md).
//
// Thread-safe. Start() runs RunOnce every poll_interval on its own thread until Shutdown().
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "repository/trigger_repository.h"
#include "service/run_use_cases.h"
#include "service/trigger_use_cases.h"

namespace flyte::runs {

inline constexpr char kTriggerSchedulerLease[] = "trigger-scheduler";

struct TriggerSchedulerOptions {
  std::string holder;  // this replica's name in the lease (unique per process)
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds lease_duration{15000};  // a crashed holder's lease lapses after this
  int batch = 100;                                   // due triggers handled per pass
};

// The run a trigger creates at `tick`: "t" + 19 characters of a digest of the trigger and the tick.
std::string TriggerRunName(const TriggerKey& key, common::TimePoint tick);

struct SchedulerPass {
  bool leader = false;  // this replica held the lease
  int fired = 0;        // runs created
  int duplicates = 0;   // ticks whose run existed already
  int skipped = 0;      // missed ticks not fired (catch-up policy)
  int failed = 0;       // ticks left due for the next pass (CreateRun failed)
};

class TriggerScheduler {
 public:
  TriggerScheduler(TriggerRepository& triggers, RunUseCases& runs, TriggerCodec& codec, common::Clock& clock,
                   TriggerSchedulerOptions options);
  ~TriggerScheduler();  // Shutdown()
  TriggerScheduler(const TriggerScheduler&) = delete;
  TriggerScheduler& operator=(const TriggerScheduler&) = delete;

  void Start();
  // Stops the thread and gives the lease up, so another replica takes over without waiting for it to expire.
  void Shutdown();
  // One pass on the calling thread: takes or renews the lease; when held, fires what is due.
  absl::StatusOr<SchedulerPass> RunOnce();

 private:
  void Loop();
  void Fire(const Trigger& trigger, common::TimePoint now, SchedulerPass& pass);

  TriggerRepository& triggers_;
  RunUseCases& runs_;
  TriggerCodec& codec_;
  common::Clock& clock_;
  TriggerSchedulerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flyte::runs
