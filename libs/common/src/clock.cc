#include "flyte/common/clock.h"

#include <time.h>

#include <cstdio>

namespace flyte::common {

std::string FormatUtcMicros(TimePoint t, const char* zone) {
  int64_t us = ToUnixMicros(t);
  time_t secs = static_cast<time_t>(us / 1'000'000);
  int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[80];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac), zone);
  return buf;
}

namespace {
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};
}  // namespace

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

}  // namespace flyte::common
