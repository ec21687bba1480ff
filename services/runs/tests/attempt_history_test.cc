// The JSON lists an attempt row keeps its phase history and cluster events in (repository/attempt_history.h):
// what is written reads back the same, and text that is not what the encoders write is refused with kDataLoss
// naming the column, never a crash (random mutations of valid lists included).
#include <random>

#include <catch2/catch.hpp>

#include "repository/attempt_history.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;

TEST_CASE("phase history and cluster events round-trip through their JSON columns", "[history]") {
  const std::vector<PhaseTransition> history = {{Phase::kQueued, At(1), At(2)},
                                                {Phase::kRunning, At(2), At(5)},
                                                {Phase::kSucceeded, At(5), std::nullopt}};
  absl::StatusOr<std::vector<PhaseTransition>> h = DecodePhaseHistory(EncodePhaseHistory(history));
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  for (size_t i = 0; i < history.size(); ++i) {
    CHECK((*h)[i].phase == history[i].phase);
    CHECK((*h)[i].start_time == history[i].start_time);
    CHECK((*h)[i].end_time == history[i].end_time);
  }
  const std::vector<ClusterEvent> events = {{At(3), "started pid 12 \"quoted\" \\ \n tab\t", 1, "Started"},
                                            {At(4), "exit code 0, ünïcode ✓", 2, ""},
                                            {At(4), std::string("nul\0byte", 8), 0, "R"}};
  absl::StatusOr<std::vector<ClusterEvent>> e = DecodeClusterEvents(EncodeClusterEvents(events));
  REQUIRE(e.ok());
  REQUIRE(e->size() == 3);
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK((*e)[i].occurred_at == events[i].occurred_at);
    CHECK((*e)[i].message == events[i].message);
    CHECK((*e)[i].type == events[i].type);
    CHECK((*e)[i].reason == events[i].reason);
  }
  CHECK(DecodePhaseHistory("[]").value().empty());
  CHECK(DecodeClusterEvents("[]").value().empty());
  CHECK(EncodePhaseHistory({}) == "[]");
}

TEST_CASE("a message that is not UTF-8 is stored with replacement characters, not refused", "[history]") {
  absl::StatusOr<std::vector<ClusterEvent>> e =
      DecodeClusterEvents(EncodeClusterEvents({{At(1), std::string("bad \xff byte"), 1, ""}}));
  REQUIRE(e.ok());
  CHECK(e->front().message == "bad \xEF\xBF\xBD byte");
}

TEST_CASE("lists that are not what the encoders write are refused naming the column", "[history]") {
  for (const char* bad : {"", "{", "{}", "[1]", "[[1,2]]", "[[\"1\",2,null]]", "[[1,2,\"x\"]]", "[[1,2,3,4]]",
                          "[[1.5,2,null]]", "null"}) {
    INFO(bad);
    absl::StatusOr<std::vector<PhaseTransition>> h = DecodePhaseHistory(bad);
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == absl::StatusCode::kDataLoss);
    CHECK(h.status().message().find("action_attempts.phase_history") != std::string::npos);
  }
  for (const char* bad : {"x", "[[1,2,\"r\"]]", "[[1,\"2\",\"r\",\"m\"]]", "[[1,2,3,\"m\"]]", "[[1,2,\"r\",null]]"}) {
    INFO(bad);
    absl::StatusOr<std::vector<ClusterEvent>> e = DecodeClusterEvents(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message().find("action_attempts.cluster_events") != std::string::npos);
  }
}

TEST_CASE("random mutations of valid lists decode or are refused, never crash", "[history][fuzz]") {
  const std::string history = EncodePhaseHistory({{Phase::kQueued, At(1), At(2)}, {Phase::kRunning, At(2), {}}});
  const std::string events = EncodeClusterEvents({{At(3), "m", 1, "r"}, {At(4), "n", 2, "s"}});
  std::mt19937 rng(20261123);
  const std::string alphabet = "[]{},:\"\\0123456789.-enulltruefalse \x01\xff";
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = i % 2 ? history : events;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(at, 1 + rng() % 3); break;
        default: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    const bool ok = i % 2 ? DecodePhaseHistory(s).ok() : DecodeClusterEvents(s).ok();
    if (!ok) ++refused;
  }
  CHECK(refused > 1000);  // the mutations do reach the error paths
}
