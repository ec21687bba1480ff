#pragma once
// Shared by the SQL repository sources in this directory (sql_store.cc, sql_queue_outbox.cc) and by nothing else:
// the flyte::db names they use and how a TimePoint is stored (whole microseconds since the Unix epoch).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "flyte/common/clock.h"
#include "flyte/db/database.h"

namespace flyte::runs {

using db::Bytes;
using db::Row;
using db::Rows;
using db::Tx;
using db::Value;

inline int64_t Micros(common::TimePoint t) { return common::ToUnixMicros(t); }

// `t` as a read of the stored column gives it back: truncated to whole microseconds.
inline common::TimePoint AsStored(common::TimePoint t) { return common::FromUnixMicros(Micros(t)); }

inline Value OptMicros(const std::optional<common::TimePoint>& t) {
  if (!t) return nullptr;
  return Micros(*t);
}

inline std::optional<common::TimePoint> OptTime(const Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return common::FromUnixMicros(r.Int(i));
}

}  // namespace flyte::runs
