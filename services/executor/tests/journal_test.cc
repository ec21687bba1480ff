// The executor's crash journal on a real directory: what a restarted executor reads back after the previous one
// died at any moment, and that the append-only log stays bounded.
#include "service/journal.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {
using testing::TempDir;

JournalEntry Entry(const std::string& lease_id, int attempt, int pgid = 0) {
  JournalEntry e;
  e.lease_id = lease_id;
  e.key = ActionKey{"testorg", "proj", "dev", "run\twith\ttabs", "action-" + lease_id};
  e.parent_action_name = "a0";
  e.attempt = attempt;
  e.pgid = pgid;
  return e;
}

std::unique_ptr<Journal> OpenJournal(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(dir);
  REQUIRE(j.ok());
  return std::move(*j);
}

// "lease:attempt:pgid:phase" of every entry, in lease order.
std::vector<std::string> Summary(const Journal& j) {
  std::vector<std::string> out;
  for (const JournalEntry& e : j.Entries()) {
    out.push_back(e.lease_id + ":" + std::to_string(e.attempt) + ":" + std::to_string(e.pgid) + ":" +
                  std::to_string(static_cast<int>(e.final_phase)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t LinesIn(const std::string& path) {
  std::string text = testing::ReadFile(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_CASE("the journal reads back the last Put of each lease not Removed", "[executor][journal]") {
  TempDir dir;
  {
    auto j = OpenJournal(dir.path());
    REQUIRE(j->Put(Entry("l1", 1, 100)).ok());
    REQUIRE(j->Put(Entry("l2", 1, 200)).ok());
    JournalEntry finished = Entry("l1", 2);
    finished.final_phase = Phase::kSucceeded;
    REQUIRE(j->Put(finished).ok());
    REQUIRE(j->Remove("l2").ok());
    REQUIRE(j->Remove("never-there").ok());
    REQUIRE(j->Put(Entry("l3", 1, 300)).ok());
  }
  auto j = OpenJournal(dir.path());
  CHECK(Summary(*j) == std::vector<std::string>{"l1:2:0:" + std::to_string(static_cast<int>(Phase::kSucceeded)),
                                                "l3:1:300:0"});
  CHECK(j->Entries().front().key.run_name == "run\twith\ttabs");
}

TEST_CASE("a partial last line (the executor killed mid-write) is ignored, and later changes are kept",
          "[executor][journal]") {
  TempDir dir;
  {
    auto j = OpenJournal(dir.path());
    REQUIRE(j->Put(Entry("l1", 1, 100)).ok());
    REQUIRE(j->Put(Entry("l2", 1, 200)).ok());
  }
  // Complete but for its newline: a Remove that was never acknowledged, so l1 must stay.
  std::ofstream(dir / "journal", std::ios::app) << "-\tl1";
  {
    auto j = OpenJournal(dir.path());
    CHECK(Summary(*j) == std::vector<std::string>{"l1:1:100:0", "l2:1:200:0"});
    // Must land on a line of its own, not glued to the fragment.
    REQUIRE(j->Put(Entry("l3", 1, 300)).ok());
  }
  auto j = OpenJournal(dir.path());
  CHECK(Summary(*j) == std::vector<std::string>{"l1:1:100:0", "l2:1:200:0", "l3:1:300:0"});
}

TEST_CASE("the log is compacted to exactly the live entries as it grows and at open", "[executor][journal]") {
  TempDir dir;
  const std::string log = dir / "journal";
  std::vector<std::string> expected;
  {
    auto j = OpenJournal(dir.path());
    // Five changes per action, as the executor makes them; every 500th action stays (its lease still held).
    size_t max_lines = 0;
    for (int i = 0; i < 3000; ++i) {
      const std::string id = "lease-" + std::to_string(i);
      for (int attempt = 1; attempt <= 4; ++attempt) REQUIRE(j->Put(Entry(id, attempt, 1000 + i)).ok());
      if (i % 500 == 0) {
        expected.push_back(id + ":4:" + std::to_string(1000 + i) + ":0");
      } else {
        REQUIRE(j->Remove(id).ok());
      }
      max_lines = std::max(max_lines, LinesIn(log));
    }
    INFO("most lines seen in the log: " << max_lines);
    CHECK(max_lines <= 1 + 1000);  // header + the growth allowed before compaction
    std::sort(expected.begin(), expected.end());
    CHECK(Summary(*j) == expected);
  }
  auto j = OpenJournal(dir.path());
  CHECK(Summary(*j) == expected);
  CHECK(LinesIn(log) == 1 + expected.size());  // open leaves only the live entries
}

TEST_CASE("a journal written before the log format (v1) is read", "[executor][journal]") {
  TempDir dir;
  std::ofstream(dir / "journal") << "flyte-executor-journal v1\n"
                                 << "l1\torg\tproj\tdev\trun\tact\tparent\t2\t4242\t0\n";
  auto j = OpenJournal(dir.path());
  CHECK(Summary(*j) == std::vector<std::string>{"l1:2:4242:0"});
  REQUIRE(j->Remove("l1").ok());
  j.reset();
  CHECK(OpenJournal(dir.path())->Entries().empty());
}

TEST_CASE("a damaged line before the end is an error, not silently skipped", "[executor][journal]") {
  TempDir dir;
  std::ofstream(dir / "journal") << "flyte-executor-journal v2\n"
                                 << "+\tl1\tonly\tthree\n"
                                 << "+\tl2\torg\tproj\tdev\trun\tact\tparent\t2\t4242\t0\n";
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(dir.path());
  CHECK(j.status().code() == absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace flyte::executor
