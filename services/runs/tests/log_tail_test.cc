// TailLogs' use case and the files log source on real files and a real SQLite database: the lines so far, lines
// written later, the end of the log when the attempt ends (not before), any attempt, NOT_FOUND cases, bounded
// reads of a big file, and the byte-level line assembly (long lines, invalid UTF-8).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "flyte/testing/temp.h"
#include "logs/file_log_source.h"
#include "logs/line_assembler.h"
#include "logs/pod_log_source.h"
#include "repository/store_factory.h"
#include "service/log_tail_use_cases.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

using absl::StatusCode;
using test::KeyOf;
using test::MakeEvent;
using test::MakeRun;

void Append(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out << text;
}

std::vector<std::string> Texts(const std::vector<LogLine>& lines, const std::string& container = "") {
  std::vector<std::string> out;
  for (const LogLine& l : lines) {
    if (container.empty() || l.container == container) out.push_back(l.text);
  }
  return out;
}

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-logs"};
  common::FakeClock clock;
  std::unique_ptr<Store> store;
  FileLogSource source{FileLogSourceOptions{data.path().string()}};
  std::unique_ptr<LogTailUseCases> logs;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    LogTailOptions options;
    options.phase_check_interval = std::chrono::milliseconds(0);  // every Next re-reads the phase
    logs = std::make_unique<LogTailUseCases>(store->Actions(), source, clock, options);
  }
  // Run `run` whose root action has its outputs (and logs) under the data root.
  ActionKey CreateRun(const std::string& run) {
    Action a = MakeRun(run);
    a.run_output_base = "file://" + (data.path() / run).string() + "/";
    REQUIRE(store->Actions().CreateRun(a).ok());
    return a.key;
  }
  void Report(const ActionKey& key, uint32_t attempt, Phase phase, bool retry_follows = false) {
    ActionEvent e = MakeEvent(attempt, phase, 10 + attempt);
    e.retry_follows = retry_follows;
    REQUIRE(store->Actions().ApplyEvent(key, e).ok());
  }
  std::filesystem::path Log(const ActionKey& key, uint32_t attempt, const std::string& name) {
    return data.path() / key.run.name / key.name / std::to_string(attempt) / name;
  }
};

TEST_CASE("a running attempt's log: the lines so far, then new ones, ending only when the attempt ends",
          "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  Append(env.Log(key, 1, "stdout.log"), "one\ntwo\n");
  Append(env.Log(key, 1, "stderr.log"), "warn\n");

  absl::StatusOr<std::unique_ptr<LogTail>> tail = env.logs->Open(key, 1);
  REQUIRE(tail.ok());
  absl::StatusOr<LogTail::Batch> b = (*tail)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines, "stdout") == std::vector<std::string>{"one\n", "two\n"});
  CHECK(Texts(b->lines, "stderr") == std::vector<std::string>{"warn\n"});
  CHECK_FALSE(b->finished);

  // Nothing new: still following. A line still being written is held back.
  b = (*tail)->Next();
  REQUIRE(b.ok());
  CHECK(b->lines.empty());
  CHECK_FALSE(b->finished);
  Append(env.Log(key, 1, "stdout.log"), "three\npart");
  b = (*tail)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines) == std::vector<std::string>{"three\n"});
  CHECK_FALSE(b->finished);

  // The attempt ends: the rest comes out (the unterminated line with a newline) and the log is finished.
  Append(env.Log(key, 1, "stdout.log"), "ial");
  env.Report(key, 1, Phase::kSucceeded);
  b = (*tail)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines) == std::vector<std::string>{"partial\n"});
  CHECK(b->finished);
}

TEST_CASE("a finished attempt's log is returned whole and ends; a log never written is empty", "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  Append(env.Log(key, 1, "stdout.log"), "done\n");
  env.Report(key, 1, Phase::kFailed);
  auto tail = env.logs->Open(key, 1);
  REQUIRE(tail.ok());
  auto b = (*tail)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines) == std::vector<std::string>{"done\n"});
  CHECK(b->finished);

  ActionKey quiet = env.CreateRun("r2");
  env.Report(quiet, 1, Phase::kRunning);
  env.Report(quiet, 1, Phase::kSucceeded);
  auto t2 = env.logs->Open(quiet, 1);
  REQUIRE(t2.ok());
  auto b2 = (*t2)->Next();
  REQUIRE(b2.ok());
  CHECK(b2->lines.empty());
  CHECK(b2->finished);
}

TEST_CASE("any attempt of a retried action; attempt 0 is the latest", "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  Append(env.Log(key, 1, "stdout.log"), "first try\n");
  env.Report(key, 1, Phase::kFailed, /*retry_follows=*/true);
  env.Report(key, 2, Phase::kRunning);
  Append(env.Log(key, 2, "stdout.log"), "second try\n");

  auto first = env.logs->Open(key, 1);
  REQUIRE(first.ok());
  auto b = (*first)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines) == std::vector<std::string>{"first try\n"});
  CHECK(b->finished);  // attempt 1 is over though the action still runs

  auto latest = env.logs->Open(key, 0);
  REQUIRE(latest.ok());
  CHECK((*latest)->attempt() == 2);
  b = (*latest)->Next();
  REQUIRE(b.ok());
  CHECK(Texts(b->lines) == std::vector<std::string>{"second try\n"});
  CHECK_FALSE(b->finished);
}

TEST_CASE("unknown action or attempt is NOT_FOUND naming it", "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  auto missing = env.logs->Open(KeyOf("nope"), 1);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("nope/a0") != std::string::npos);
  auto attempt = env.logs->Open(key, 3);
  CHECK(attempt.status().code() == StatusCode::kNotFound);
  CHECK(attempt.status().message().find("attempt 3") != std::string::npos);
  CHECK(attempt.status().message().find("has 1 attempt") != std::string::npos);

  ActionKey queued = env.CreateRun("r2");  // no attempt started yet
  CHECK(env.logs->Open(queued, 1).status().code() == StatusCode::kNotFound);
}

TEST_CASE("an action whose outputs are not under the data root is refused, not read", "[logs][sqlite]") {
  Env env;
  Action a = MakeRun("r1");  // s3:// output base
  REQUIRE(env.store->Actions().CreateRun(a).ok());
  env.Report(a.key, 1, Phase::kRunning);
  CHECK(env.logs->Open(a.key, 1).status().code() == StatusCode::kFailedPrecondition);

  Action b = MakeRun("r2");
  b.run_output_base = "file://" + env.data.path().string() + "/../elsewhere/";
  REQUIRE(env.store->Actions().CreateRun(b).ok());
  env.Report(b.key, 1, Phase::kRunning);
  absl::Status s = env.logs->Open(b.key, 1).status();
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message().find("runs.storagePrefix") != std::string::npos);
}

TEST_CASE("a big log is read in bounded batches, in order", "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " of a big log\n";  // ~450 KB
  Append(env.Log(key, 1, "stdout.log"), big);
  env.Report(key, 1, Phase::kSucceeded);
  auto tail = env.logs->Open(key, 1);
  REQUIRE(tail.ok());
  std::string seen;
  int batches = 0;
  for (bool finished = false; !finished;) {
    auto b = (*tail)->Next();
    REQUIRE(b.ok());
    size_t bytes = 0;
    for (const LogLine& l : b->lines) bytes += l.text.size();
    CHECK(bytes <= 64 * 1024);
    for (const LogLine& l : b->lines) seen += l.text;
    finished = b->finished;
    REQUIRE(++batches < 100);
  }
  CHECK(seen == big);
  CHECK(batches > 7);
}

TEST_CASE("a log file recreated by a re-delivered attempt is read again from its start", "[logs][sqlite]") {
  Env env;
  ActionKey key = env.CreateRun("r1");
  env.Report(key, 1, Phase::kRunning);
  Append(env.Log(key, 1, "stdout.log"), "before the executor restarted\n");
  auto tail = env.logs->Open(key, 1);
  REQUIRE(tail.ok());
  REQUIRE((*tail)->Next()->lines.size() == 1);
  std::filesystem::remove(env.Log(key, 1, "stdout.log"));
  Append(env.Log(key, 1, "stdout.log"), "again\n");
  CHECK(Texts((*tail)->Next()->lines) == std::vector<std::string>{"again\n"});
}

TEST_CASE("lines: long ones in pieces, invalid UTF-8 replaced, Pod timestamps split off", "[logs][unit]") {
  LineAssembler lines(8);
  std::vector<std::string> out;
  lines.Add("abc\n0123456789ab\nxy", &out);
  CHECK(out == std::vector<std::string>{"abc\n", "01234567\n", "89ab\n"});
  lines.Flush(&out);
  CHECK(out.back() == "xy\n");

  CHECK(SanitizeUtf8("ok \xC3\xA9 \xFF end") == "ok \xC3\xA9 \xEF\xBF\xBD end");
  CHECK(SanitizeUtf8("cut \xE2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");

  LogLine l;
  SplitTimestamp("2026-12-06T05:28:07.123456789Z hello\n", TimePoint{}, &l);
  CHECK(l.text == "hello\n");
  CHECK(common::ToUnixMicros(l.time) == 1796534887123456);
  SplitTimestamp("no timestamp here\n", test::At(5), &l);
  CHECK(l.text == "no timestamp here\n");
  CHECK(l.time == test::At(5));
}

}  // namespace
}  // namespace flyte::runs
