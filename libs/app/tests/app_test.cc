#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/app/flags.h"
#include "flyte/app/log.h"
#include "flyte/app/main.h"

using namespace flyte::app;

TEST_CASE("flags", "[unit][app]") {
  const char* a[] = {"x", "--config", "c.yaml", "--validate-config"};
  auto f = ParseFlags(4, a);
  REQUIRE(f.ok());
  CHECK(f->config_file == "c.yaml");
  CHECK(f->validate_only);
  const char* b[] = {"x", "--config=d.yaml", "--version"};
  f = ParseFlags(3, b);
  REQUIRE(f.ok());
  CHECK(f->config_file == "d.yaml");
  CHECK(f->version);
  const char* c[] = {"x", "--config"};
  CHECK(ParseFlags(2, c).status().code() == absl::StatusCode::kInvalidArgument);
  const char* d[] = {"x", "--bogus"};
  CHECK(ParseFlags(2, d).status().message() == "unknown argument '--bogus'");
}

TEST_CASE("logger filters by level and can show the source", "[unit][app]") {
  std::vector<std::string> lines;
  SetLogSinkForTesting([&](std::string_view l) { lines.emplace_back(l); });
  ConfigureLogging(3, true);
  FLYTE_LOG(kInfo, "hidden {}", 1);
  FLYTE_LOG(kWarn, "shown {}", 2);
  ConfigureLogging(4, false);
  FLYTE_LOG(kInfo, "plain");
  SetLogSinkForTesting(nullptr);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("WARN  shown 2 [app_test.cc:") != std::string::npos);
  CHECK(lines[1].find("INFO  plain") != std::string::npos);
  CHECK(lines[1].find('[') == std::string::npos);
}

TEST_CASE("shutdown steps run once, in order", "[unit][app]") {
  std::vector<int> order;
  {
    ShutdownSequence s;
    s.Add("a", [&] { order.push_back(1); });
    s.Add("b", [&] { order.push_back(2); });
    s.Run();
    s.Run();
  }
  CHECK(order == std::vector<int>{1, 2});
}

namespace {

Program TestProgram(std::atomic<int>* started, std::vector<std::string>* steps) {
  Program p;
  p.name = "test-service";
  p.version = "0";
  p.load_config = [](const std::string& file) -> absl::Status {
    if (file == "bad.yaml") return absl::InvalidArgumentError("a.b: unknown key\nc: expected an integer");
    return absl::OkStatus();
  };
  p.logger = [] { return flyte::config::LoggerConfig{}; };
  p.start = [started, steps](ShutdownSequence& s) -> absl::Status {
    ++*started;
    s.Add("stop accepting", [steps] { steps->push_back("stop accepting"); });
    s.Add("close db", [steps] { steps->push_back("close db"); });
    return absl::OkStatus();
  };
  return p;
}

}  // namespace

TEST_CASE("RunMain: exit codes for flags and config", "[unit][app]") {
  std::atomic<int> started{0};
  std::vector<std::string> steps;
  Program p = TestProgram(&started, &steps);
  const char* bad_flag[] = {"t", "--nope"};
  CHECK(RunMain(2, bad_flag, p) == kExitBadConfig);
  const char* bad_config[] = {"t", "--config", "bad.yaml"};
  CHECK(RunMain(3, bad_config, p) == kExitBadConfig);
  const char* validate[] = {"t", "--config", "good.yaml", "--validate-config"};
  CHECK(RunMain(4, validate, p) == kExitOk);
  const char* help[] = {"t", "--help"};
  CHECK(RunMain(2, help, p) == kExitOk);
  CHECK(started == 0);  // nothing was started by any of these

  p.start = [](ShutdownSequence&) { return absl::UnavailableError("port taken"); };
  const char* plain[] = {"t"};
  CHECK(RunMain(1, plain, p) == kExitStartFailed);
}

TEST_CASE("RunMain: SIGTERM runs the shutdown steps in order and exits 0", "[unit][app]") {
  std::atomic<int> started{0};
  std::vector<std::string> steps;
  Program p = TestProgram(&started, &steps);
  auto start = p.start;
  std::thread killer;
  p.start = [&](ShutdownSequence& s) {
    absl::Status st = start(s);
    killer = std::thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ::kill(::getpid(), SIGTERM);
    });
    return st;
  };
  const char* argv[] = {"t"};
  CHECK(RunMain(1, argv, p) == kExitOk);
  killer.join();
  CHECK(started == 1);
  CHECK(steps == std::vector<std::string>{"stop accepting", "close db"});
}
