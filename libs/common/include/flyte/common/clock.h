#pragma once
// Time source. Production code takes a Clock& so tests can inject FakeClock. Thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace flyte::common {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  static Clock& System();
};

// Manually advanced clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000))) : now_us_(ToMicros(start)) {}
  TimePoint Now() const override { return TimePoint(std::chrono::microseconds(now_us_.load())); }
  void Advance(std::chrono::microseconds d) { now_us_ += d.count(); }

 private:
  static int64_t ToMicros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> now_us_;
};

// Microseconds since the Unix epoch: how timestamps are stored in both databases.
inline int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixMicros(int64_t us) { return TimePoint(std::chrono::microseconds(us)); }

// "2026-12-06T05:28:07.123456" + `zone` ("Z", "+00:00"): UTC with exactly six fractional digits.
std::string FormatUtcMicros(TimePoint t, const char* zone);

}  // namespace flyte::common
