#include "domain/schedule.h"

#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flyte::runs {
namespace {

struct FieldRule {
  const char* name;
  int min, max;
  const char* const* names;  // index i = value min + i; nullptr = numbers only
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

absl::StatusOr<int> ParseValue(absl::string_view text, const FieldRule& rule) {
  int v = 0;
  if (absl::SimpleAtoi(text, &v)) return v;
  if (rule.names != nullptr) {
    const std::string upper = absl::AsciiStrToUpper(text);
    const int count = rule.names == kMonthNames ? 12 : 7;
    for (int i = 0; i < count; ++i) {
      if (upper == rule.names[i]) return (rule.names == kMonthNames ? 1 : 0) + i;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(rule.name, " field \"", std::string(text), "\" is not a number"));
}

// Sets the bits of one field ("*/15", "1-5", "MON,WED", ...). Day of week accepts 7 for Sunday.
absl::Status ParseField(absl::string_view field, const FieldRule& rule, std::vector<bool>& bits, bool& restricted) {
  restricted = field != "*";
  const int max_value = rule.max;
  for (absl::string_view part : absl::StrSplit(field, ',')) {
    if (part.empty()) return absl::InvalidArgumentError(absl::StrCat(rule.name, " field \"", std::string(field), "\" has an empty item"));
    int step = 1;
    absl::string_view range = part;
    if (size_t slash = part.find('/'); slash != absl::string_view::npos) {
      range = part.substr(0, slash);
      if (!absl::SimpleAtoi(part.substr(slash + 1), &step) || step <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(rule.name, " field \"", std::string(part), "\" has a bad step"));
      }
    }
    int lo = rule.min, hi = max_value;
    if (range != "*") {
      size_t dash = range.find('-');
      absl::StatusOr<int> a = ParseValue(range.substr(0, dash), rule);
      if (!a.ok()) return a.status();
      lo = *a;
      hi = *a;
      if (dash != absl::string_view::npos) {
        absl::StatusOr<int> b = ParseValue(range.substr(dash + 1), rule);
        if (!b.ok()) return b.status();
        hi = *b;
      } else if (part.find('/') != absl::string_view::npos) {
        hi = max_value;  // "a/n": from a to the end
      }
    }
    if (lo < rule.min || hi > max_value || lo > hi) {
      return absl::InvalidArgumentError(
          absl::StrCat(rule.name, " field \"", std::string(part), "\" is out of range ", rule.min, "-", max_value));
    }
    for (int v = lo; v <= hi; v += step) bits[static_cast<size_t>(v)] = true;
  }
  return absl::OkStatus();
}

absl::string_view ExpandMacro(absl::string_view e) {
  if (e == "@yearly" || e == "@annually") return "0 0 1 1 *";
  if (e == "@monthly") return "0 0 1 * *";
  if (e == "@weekly") return "0 0 * * 0";
  if (e == "@daily" || e == "@midnight") return "0 0 * * *";
  if (e == "@hourly") return "0 * * * *";
  return e;
}

template <size_t N>
void CopyBits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (size_t i = 0; i < N && i < from.size(); ++i) to[i] = from[i];
}

}  // namespace

absl::StatusOr<CronSchedule> ParseCron(std::string_view expression) {
  absl::string_view expr =
      ExpandMacro(absl::StripAsciiWhitespace(absl::string_view(expression.data(), expression.size())));
  if (!expr.empty() && expr.front() == '@') {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(expr), "\" is not a known macro (@yearly, @annually, "
                                                   "@monthly, @weekly, @daily, @midnight, @hourly)"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(expr, ' ', absl::SkipWhitespace());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(expr), "\" has ", fields.size(),
                                                   " fields; want 5 (minute hour day-of-month month day-of-week)"));
  }
  static constexpr FieldRule kRules[5] = {{"minute", 0, 59, nullptr},
                                          {"hour", 0, 23, nullptr},
                                          {"day-of-month", 1, 31, nullptr},
                                          {"month", 1, 12, kMonthNames},
                                          {"day-of-week", 0, 7, kDayNames}};
  CronSchedule c;
  bool restricted[5] = {};
  std::vector<bool> bits[5];
  for (int i = 0; i < 5; ++i) {
    bits[i].assign(static_cast<size_t>(kRules[i].max) + 1, false);
    if (absl::Status s = ParseField(fields[i], kRules[i], bits[i], restricted[i]); !s.ok()) return s;
  }
  if (bits[4][7]) bits[4][0] = true;  // 7 = Sunday too
  CopyBits(bits[0], c.minutes);
  CopyBits(bits[1], c.hours);
  CopyBits(bits[2], c.days_of_month);
  CopyBits(bits[3], c.months);
  CopyBits(bits[4], c.days_of_week);
  c.day_of_month_restricted = restricted[2];
  c.day_of_week_restricted = restricted[4];
  return c;
}

namespace {

bool DayMatches(const CronSchedule& c, const std::tm& tm) {
  const bool dom = c.days_of_month[static_cast<size_t>(tm.tm_mday)];
  const bool dow = c.days_of_week[static_cast<size_t>(tm.tm_wday)];
  if (c.day_of_month_restricted && c.day_of_week_restricted) return dom || dow;
  return dom && dow;
}

absl::StatusOr<common::TimePoint> NextCronTick(const CronSchedule& c, common::TimePoint after) {
  using std::chrono::minutes;
  // Start at the next whole minute; jump whole months/days/hours that cannot match. Five years of jumps is at most
  // ~60 + 1,830 + 24 * ... steps; a bound well above that means the expression never matches.
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::floor<minutes>(after) + minutes(1));
  for (int steps = 0; steps < 200'000; ++steps) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (!c.months[static_cast<size_t>(tm.tm_mon + 1)]) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    if (!DayMatches(c, tm)) {
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    if (!c.hours[static_cast<size_t>(tm.tm_hour)]) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    if (!c.minutes[static_cast<size_t>(tm.tm_min)]) {
      t += 60;
      continue;
    }
    return std::chrono::system_clock::from_time_t(t);
  }
  return absl::InvalidArgumentError("the cron expression never matches a date");
}

}  // namespace

absl::StatusOr<common::TimePoint> NextTick(const Schedule& s, common::TimePoint after) {
  if (s.kind == Schedule::Kind::kCron) return NextCronTick(s.cron, after);
  if (s.period.count() <= 0) return absl::InvalidArgumentError("the fixed rate must be positive");
  if (after < s.anchor) return s.anchor;
  const auto elapsed = after - s.anchor;
  const auto periods = elapsed / s.period;  // whole periods since the anchor
  return s.anchor + (periods + 1) * s.period;
}

}  // namespace flyte::runs
