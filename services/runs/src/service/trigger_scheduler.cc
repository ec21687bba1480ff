#include "service/trigger_scheduler.h"

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "flyte/common/digest.h"

namespace flyte::runs {

std::string TriggerRunName(const TriggerKey& k, common::TimePoint tick) {
  const std::string digest = common::HexEncode(common::Sha256(absl::StrCat(
      k.org, "/", k.project, "/", k.domain, "/", k.task_name, "/", k.name, "@", common::ToUnixMicros(tick))));
  return "t" + digest.substr(0, 19);
}

TriggerScheduler::TriggerScheduler(TriggerRepository& triggers, RunUseCases& runs, TriggerCodec& codec,
                                   common::Clock& clock, TriggerSchedulerOptions options)
    : triggers_(triggers), runs_(runs), codec_(codec), clock_(clock), options_(std::move(options)) {}

TriggerScheduler::~TriggerScheduler() { Shutdown(); }

void TriggerScheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void TriggerScheduler::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    if (absl::Status s = triggers_.ReleaseLease(kTriggerSchedulerLease, options_.holder); !s.ok()) {
      FLYTE_LOG(kWarn, "trigger scheduler: releasing its lease: {}", s.ToString());
    }
  }
}

void TriggerScheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (absl::StatusOr<SchedulerPass> pass = RunOnce(); !pass.ok()) {
      FLYTE_LOG(kWarn, "trigger scheduler: {}", pass.status().ToString());
    }
    lock.lock();
    cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_; });
  }
}

absl::StatusOr<SchedulerPass> TriggerScheduler::RunOnce() {
  SchedulerPass pass;
  const common::TimePoint now = clock_.Now();
  absl::StatusOr<bool> leader =
      triggers_.TryAcquireLease(kTriggerSchedulerLease, options_.holder, now, now + options_.lease_duration);
  if (!leader.ok()) return leader.status();
  pass.leader = *leader;
  if (!pass.leader) return pass;
  absl::StatusOr<std::vector<Trigger>> due = triggers_.ListDue(now, options_.batch);
  if (!due.ok()) return due.status();
  for (const Trigger& t : *due) Fire(t, now, pass);
  return pass;
}

void TriggerScheduler::Fire(const Trigger& t, common::TimePoint now, SchedulerPass& pass) {
  const std::string what = absl::StrCat("trigger ", t.key.project, "/", t.key.domain, "/", t.key.task_name, "/",
                                        t.key.name);
  absl::StatusOr<std::optional<Schedule>> schedule = codec_.ScheduleOf(t, *t.next_fire_at);
  // A trigger stored with a schedule that no longer reads (it was checked at deploy) is taken off the schedule.
  std::optional<common::TimePoint> next;
  common::TimePoint tick = *t.next_fire_at;
  if (schedule.ok() && schedule->has_value()) {
    // Catch-up policy: the latest tick at or before now is fired; earlier missed ones are skipped.
    for (int guard = 0; guard < 1'000'000; ++guard) {
      absl::StatusOr<common::TimePoint> n = NextTick(**schedule, tick);
      if (!n.ok()) break;
      if (*n > now) {
        next = *n;
        break;
      }
      tick = *n;
      ++pass.skipped;
    }
  } else {
    FLYTE_LOG(kWarn, "{}: unschedulable ({}), not fired again", what,
              schedule.ok() ? "no schedule" : schedule.status().ToString());
  }
  absl::StatusOr<CreateRunParams> params = codec_.RunFor(t, tick);
  if (params.ok()) {
    params->run.name = TriggerRunName(t.key, tick);
    absl::StatusOr<Action> run = runs_.CreateRun(*params);
    if (run.ok()) {
      ++pass.fired;
      FLYTE_LOG(kInfo, "{} fired run {} for tick {}", what, params->run.name, common::FormatUtcMicros(tick, "Z"));
    } else if (run.status().code() == absl::StatusCode::kAlreadyExists) {
      ++pass.duplicates;
    } else {
      // Left due: the next pass tries again (the database or the task may be back by then).
      ++pass.failed;
      FLYTE_LOG(kWarn, "{}: creating the run of tick {}: {}", what, common::FormatUtcMicros(tick, "Z"),
                run.status().ToString());
      return;
    }
  } else {
    ++pass.failed;
    FLYTE_LOG(kWarn, "{}: {}; skipped", what, params.status().ToString());
  }
  if (absl::StatusOr<bool> recorded = triggers_.RecordFired(t.key, t.revision, tick, next); !recorded.ok()) {
    FLYTE_LOG(kWarn, "{}: recording tick {}: {}", what, common::FormatUtcMicros(tick, "Z"),
              recorded.status().ToString());
  }
}

}  // namespace flyte::runs
