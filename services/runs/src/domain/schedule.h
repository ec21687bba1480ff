#pragma once
// When a scheduled trigger fires: a fixed rate (every N minutes/hours/days from an anchor) or a standard 5-field
// cron expression, evaluated in UTC. Plain functions of time, no clock: the scheduler passes "now".
//
// Cron fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12), day of week (0-7, 0 and 7 = Sunday);
// each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` or `a/n`, or a comma list of those; month and weekday
// names (JAN..DEC, SUN..SAT) are accepted. The macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly stand for their usual expressions. As in cron, when both day of month and day of week are restricted a
// day matching either fires. We parse it ourselves: Debian ships no maintained C++ cron library (docs/runs-service.md).
#include <bitset>
#include <chrono>
#include <string_view>

#include "absl/status/statusor.h"
#include "flyte/common/clock.h"

namespace flyte::runs {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 1..31
  std::bitset<13> months;         // bit 1..12
  std::bitset<7> days_of_week;    // bit 0 = Sunday
  bool day_of_month_restricted = false;
  bool day_of_week_restricted = false;
};

// kInvalidArgument with a message naming the bad part ("minute field \"61\" is out of range 0-59"); the caller
// prefixes the request field.
absl::StatusOr<CronSchedule> ParseCron(std::string_view expression);

struct Schedule {
  enum class Kind { kFixedRate, kCron };
  Kind kind = Kind::kFixedRate;
  std::chrono::seconds period{0};  // kFixedRate: > 0
  common::TimePoint anchor{};      // kFixedRate: ticks are anchor + k * period
  CronSchedule cron;               // kCron
};

// The first tick strictly after `after`. A cron expression that never matches (e.g. "0 0 31 2 *") gives
// kInvalidArgument.
absl::StatusOr<common::TimePoint> NextTick(const Schedule& schedule, common::TimePoint after);

}  // namespace flyte::runs
