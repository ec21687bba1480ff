#include "flyte/common/clock.h"

namespace flyte::common {
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
