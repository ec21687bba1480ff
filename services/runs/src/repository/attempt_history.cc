#include "repository/attempt_history.h"

#include <nlohmann/json.hpp>

#include "flyte/common/clock.h"

namespace flyte::runs {
namespace {

using Json = nlohmann::json;

int64_t Micros(TimePoint t) { return common::ToUnixMicros(t); }

std::string Dump(const Json& j) {
  // Messages come from protobuf strings (valid UTF-8); should one not be, it is stored with U+FFFD, not refused.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::Status Bad(std::string_view column, std::string_view why) {
  return absl::DataLossError("action_attempts." + std::string(column) + " is not a valid list: " + std::string(why));
}

// Parses `json` as an array of arrays of `width` elements, handing each to `each` (which returns false on a
// wrongly typed element).
template <typename Each>
absl::Status ForEachEntry(std::string_view column, std::string_view json, size_t width, Each each) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad(column, "not JSON");
  if (!j.is_array()) return Bad(column, "not a JSON array");
  for (const Json& e : j) {
    if (!e.is_array() || e.size() != width) return Bad(column, "an entry is not an array of " + std::to_string(width));
    if (!each(e)) return Bad(column, "an entry has a field of the wrong type");
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodePhaseHistory(const std::vector<PhaseTransition>& history) {
  Json j = Json::array();
  for (const PhaseTransition& t : history) {
    j.push_back({static_cast<int>(t.phase), Micros(t.start_time),
                 t.end_time ? Json(Micros(*t.end_time)) : Json(nullptr)});
  }
  return Dump(j);
}

std::string EncodeClusterEvents(const std::vector<ClusterEvent>& events) {
  Json j = Json::array();
  for (const ClusterEvent& e : events) j.push_back({Micros(e.occurred_at), e.type, e.reason, e.message});
  return Dump(j);
}

absl::StatusOr<std::vector<PhaseTransition>> DecodePhaseHistory(std::string_view json) {
  std::vector<PhaseTransition> out;
  absl::Status s = ForEachEntry("phase_history", json, 3, [&](const Json& e) {
    if (!e[0].is_number_integer() || !e[1].is_number_integer() || !(e[2].is_null() || e[2].is_number_integer())) {
      return false;
    }
    PhaseTransition t{static_cast<Phase>(e[0].get<int>()), common::FromUnixMicros(e[1].get<int64_t>()), std::nullopt};
    if (!e[2].is_null()) t.end_time = common::FromUnixMicros(e[2].get<int64_t>());
    out.push_back(t);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<ClusterEvent>> DecodeClusterEvents(std::string_view json) {
  std::vector<ClusterEvent> out;
  absl::Status s = ForEachEntry("cluster_events", json, 4, [&](const Json& e) {
    if (!e[0].is_number_integer() || !e[1].is_number_integer() || !e[2].is_string() || !e[3].is_string()) return false;
    out.push_back(ClusterEvent{common::FromUnixMicros(e[0].get<int64_t>()), e[3].get<std::string>(), e[1].get<int>(),
                               e[2].get<std::string>()});
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace flyte::runs
