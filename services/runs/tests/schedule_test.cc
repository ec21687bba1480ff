// Schedules of triggers: the 5-field cron parser (good and bad input) and the tick math of cron and fixed rates.
#include <catch2/catch.hpp>

#include "domain/schedule.h"

namespace flyte::runs {
namespace {

using absl::StatusCode;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-01T00:00:00Z, a Thursday.
const common::TimePoint kNewYear2026 = common::TimePoint(seconds(1'767'225'600));

Schedule Cron(const std::string& expr) {
  absl::StatusOr<CronSchedule> c = ParseCron(expr);
  REQUIRE(c.ok());
  Schedule s;
  s.kind = Schedule::Kind::kCron;
  s.cron = *c;
  return s;
}

common::TimePoint Next(const Schedule& s, common::TimePoint after) {
  absl::StatusOr<common::TimePoint> t = NextTick(s, after);
  REQUIRE(t.ok());
  return *t;
}

std::string Error(const std::string& expr) {
  absl::StatusOr<CronSchedule> c = ParseCron(expr);
  REQUIRE(c.status().code() == StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

}  // namespace

TEST_CASE("cron fields: lists, ranges, steps, names, 7 = Sunday, macros", "[unit]") {
  absl::StatusOr<CronSchedule> c = ParseCron("*/15 9-17/4 1,15 JAN-mar mon-FRI");
  REQUIRE(c.ok());
  CHECK(c->minutes.count() == 4);
  CHECK(c->minutes[0]);
  CHECK(c->minutes[45]);
  CHECK(c->hours.count() == 3);  // 9, 13, 17
  CHECK(c->hours[13]);
  CHECK(c->days_of_month.count() == 2);
  CHECK(c->months.count() == 3);
  CHECK(c->days_of_week.count() == 5);
  CHECK_FALSE(c->days_of_week[0]);
  CHECK(ParseCron("0 0 * * 7")->days_of_week[0]);
  CHECK(ParseCron("5/20 * * * *")->minutes.count() == 3);  // 5, 25, 45
  CHECK(ParseCron("@hourly")->minutes.count() == 1);
  CHECK(ParseCron("  @daily ")->hours.count() == 1);
}

TEST_CASE("bad cron expressions are refused naming the part", "[unit]") {
  CHECK(Error("61 * * * *").find("minute field \"61\" is out of range 0-59") != std::string::npos);
  CHECK(Error("* 24 * * *").find("hour field") != std::string::npos);
  CHECK(Error("* * 0 * *").find("day-of-month field") != std::string::npos);
  CHECK(Error("* * * 13 *").find("month field") != std::string::npos);
  CHECK(Error("* * * * 8").find("day-of-week field") != std::string::npos);
  CHECK(Error("* * * *").find("has 4 fields; want 5") != std::string::npos);
  CHECK(Error("* * * * * *").find("has 6 fields") != std::string::npos);
  CHECK(Error("").find("has 0 fields") != std::string::npos);
  CHECK(Error("x * * * *").find("minute field \"x\" is not a number") != std::string::npos);
  CHECK(Error("*/0 * * * *").find("bad step") != std::string::npos);
  CHECK(Error("5-1 * * * *").find("out of range") != std::string::npos);
  CHECK(Error("1,,2 * * * *").find("empty item") != std::string::npos);
  CHECK(Error("@every 5m").find("not a known macro") != std::string::npos);
}

TEST_CASE("cron next tick: strictly after, day rules, leap years, never", "[unit]") {
  // Every 15 minutes: from 00:00:00 exactly the next is 00:15, from 00:14:59 too.
  CHECK(Next(Cron("*/15 * * * *"), kNewYear2026) == kNewYear2026 + minutes(15));
  CHECK(Next(Cron("*/15 * * * *"), kNewYear2026 + minutes(14) + seconds(59)) == kNewYear2026 + minutes(15));
  // Mondays 09:30: Thursday Jan 1 -> Monday Jan 5.
  CHECK(Next(Cron("30 9 * * MON"), kNewYear2026) == kNewYear2026 + hours(4 * 24 + 9) + minutes(30));
  // Day of month and day of week both restricted: either matches (Friday Jan 2 comes before the 13th).
  CHECK(Next(Cron("0 0 13 * 5"), kNewYear2026) == kNewYear2026 + hours(24));
  // Only the 13th when the weekday is *.
  CHECK(Next(Cron("0 0 13 * *"), kNewYear2026) == kNewYear2026 + hours(12 * 24));
  // February 29th: the next one is in 2028.
  const common::TimePoint feb29_2028 = common::TimePoint(seconds(1'835'395'200));
  CHECK(Next(Cron("0 0 29 2 *"), kNewYear2026) == feb29_2028);
  // Across a year end.
  CHECK(Next(Cron("@yearly"), kNewYear2026) == common::TimePoint(seconds(1'798'761'600)));  // 2027-01-01
  absl::StatusOr<common::TimePoint> never = NextTick(Cron("0 0 31 2 *"), kNewYear2026);
  CHECK(never.status().code() == StatusCode::kInvalidArgument);
  CHECK(std::string(never.status().message()).find("never matches") != std::string::npos);
}

TEST_CASE("fixed rate ticks: anchor plus whole periods, strictly after", "[unit]") {
  Schedule s;
  s.kind = Schedule::Kind::kFixedRate;
  s.period = minutes(5);
  s.anchor = kNewYear2026;
  CHECK(Next(s, kNewYear2026 - hours(1)) == kNewYear2026);  // before the start: the start
  CHECK(Next(s, kNewYear2026) == kNewYear2026 + minutes(5));
  CHECK(Next(s, kNewYear2026 + minutes(5) - seconds(1)) == kNewYear2026 + minutes(5));
  CHECK(Next(s, kNewYear2026 + minutes(5)) == kNewYear2026 + minutes(10));
  CHECK(Next(s, kNewYear2026 + hours(10) + seconds(1)) == kNewYear2026 + hours(10) + minutes(5));
  s.period = seconds(0);
  CHECK(NextTick(s, kNewYear2026).status().code() == StatusCode::kInvalidArgument);
}
}  // namespace flyte::runs
