// The executor's glue with real processes (LocalRuntime), its real gRPC clients and journal, against test doubles
// of LeaseService and StateService served on a real port (support/service_doubles.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "config.h"
#include "flyte/metrics/registry.h"
#include "service/journal.h"
#include "setup.h"
#include "support/service_doubles.h"

namespace flyte::executor {
namespace {
using namespace std::chrono_literals;
using testing::ServiceDoubles;
using testing::ShellAction;
using testing::TempDir;
using testing::WaitUntil;

Config TestConfig(const std::string& data_root, int max_processes = 4) {
  Config c;
  c.data_root = data_root;
  c.max_concurrent_processes = max_processes;
  c.acquire_wait = 200ms;
  c.heartbeat_interval = 100ms;
  c.kill_grace_period = 500ms;
  return c;
}

struct Running {
  std::unique_ptr<ExecutorModule> module;
  metrics::Registry metrics;
};

std::unique_ptr<ExecutorModule> StartExecutor(ServiceDoubles& d, const Config& c, metrics::Registry* m = nullptr) {
  absl::StatusOr<std::unique_ptr<ExecutorModule>> module = ExecutorModule::Create(c, m, d.Channel(), d.Channel());
  REQUIRE(module.ok());
  REQUIRE((*module)->Start().ok());
  return std::move(*module);
}

TEST_CASE("a leased action runs and every transition reaches runs-service before the lease completes",
          "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  metrics::Registry metrics;
  d.leases.Enqueue(ShellAction("a1", "echo hello"));
  auto ex = StartExecutor(d, TestConfig(dir.path()), &metrics);
  REQUIRE(d.leases.WaitDone("a1"));
  CHECK(d.leases.FinalPhase("a1") == static_cast<int>(Phase::kSucceeded));
  CHECK(d.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  CHECK(d.state.rejected() == 0);
  REQUIRE(WaitUntil([&] { return ex->executor().held_leases() == 0; }));
  std::string text = metrics.Serialize();
  CHECK(text.find("flyte_executor_actions_total{phase=\"SUCCEEDED\"} 1") != std::string::npos);
  CHECK(text.find("flyte_executor_enqueue_to_running_seconds_count 1") != std::string::npos);
  CHECK(text.find("flyte_executor_running_to_terminal_seconds_count 1") != std::string::npos);
  CHECK(text.find("flyte_executor_running_processes 0") != std::string::npos);
  ex->Shutdown();
  // Nothing left in the journal once the lease is completed.
  auto j = Journal::Open(dir.path() + "/.executor");
  REQUIRE(j.ok());
  CHECK((*j)->Entries().empty());
}

TEST_CASE("retries are reported attempt by attempt and the lease completes FAILED", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.leases.Enqueue(ShellAction("a1", "exit 3", /*retries=*/1));
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.leases.WaitDone("a1"));
  CHECK(d.leases.FinalPhase("a1") == static_cast<int>(Phase::kFailed));
  CHECK(d.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING 2:FAILED");
}

TEST_CASE("runs-service outages delay reports but lose none, in order", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.state.FailNextPuts(4);  // INITIALIZING is retried four times with backoff
  d.leases.Enqueue(ShellAction("a1", "true"));
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.leases.WaitDone("a1"));
  CHECK(d.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
}

TEST_CASE("the concurrency limit bounds processes and leases", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  for (int i = 1; i <= 5; ++i) d.leases.Enqueue(ShellAction("a" + std::to_string(i), "sleep 0.3"));
  auto ex = StartExecutor(d, TestConfig(dir.path(), /*max_processes=*/2));
  size_t max_running = 0, max_held = 0;
  bool all_done = WaitUntil([&] {
    max_running = std::max(max_running, ex->executor().running_processes());
    max_held = std::max(max_held, ex->executor().held_leases());
    for (int i = 1; i <= 5; ++i) {
      if (d.leases.FinalPhase("a" + std::to_string(i)) == 0) return false;
    }
    return true;
  });
  REQUIRE(all_done);
  CHECK(max_running <= 2);
  // Leases of ended actions awaiting their final report and Complete do not hold a process slot, but are bounded
  // by another max_processes.
  CHECK(max_held <= 4);
  CHECK(max_running >= 1);
}

TEST_CASE("abort_requested on a heartbeat stops the process and completes ABORTED", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.leases.Enqueue(ShellAction("a1", "echo $$ > " + dir.path() + "/pid; exec sleep 30"));
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.state.WaitPhase("a1", Phase::kRunning));
  REQUIRE(testing::WaitForFile(dir.path() + "/pid"));
  pid_t pid = testing::ReadPid(dir.path() + "/pid");
  d.leases.RequestAbort("a1", "user asked");
  REQUIRE(d.leases.WaitDone("a1", 10s));
  CHECK(d.leases.FinalPhase("a1") == static_cast<int>(Phase::kAborted));
  CHECK(d.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:ABORTED");
  CHECK_FALSE(testing::IsAlive(pid));
}

TEST_CASE("a lost lease kills the process at once and the action is neither reported nor completed further",
          "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.leases.Enqueue(ShellAction("a1", "echo $$ > " + dir.path() + "/pid; trap '' TERM; while :; do sleep 1; done"));
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.state.WaitPhase("a1", Phase::kRunning));
  REQUIRE(testing::WaitForFile(dir.path() + "/pid"));
  pid_t pid = testing::ReadPid(dir.path() + "/pid");
  d.leases.Steal("a1");
  // SIGKILL without grace although the task ignores SIGTERM (the kill grace is 500ms; this is well under a second
  // of heartbeat + kill).
  CHECK(WaitUntil([&] { return !testing::IsAlive(pid); }, 3s));
  CHECK(WaitUntil([&] { return ex->executor().held_leases() == 0; }, 5s));
  std::this_thread::sleep_for(300ms);
  CHECK(d.state.Trace("a1") == "1:INITIALIZING 1:RUNNING");
  CHECK(d.leases.Completes("a1") == 0);
}

TEST_CASE("a re-delivered lease closes the lost attempt first, then runs the next one", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  // An earlier executor got attempt 1 to RUNNING, then vanished; the queue hands the action out again.
  d.state.Seed("a1", Phase::kRunning, 1);
  d.leases.Enqueue(ShellAction("a1", "true"), /*handed_out_before=*/1);
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.leases.WaitDone("a1"));
  CHECK(d.state.Trace("a1") == "1:FAILED 2:INITIALIZING 2:RUNNING 2:SUCCEEDED");
  CHECK(d.state.Puts("a1").front().error_code == kExecutorLostCode);
  CHECK(d.state.rejected() == 0);
}

TEST_CASE("an action already ended under an earlier executor is completed without running", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.state.Seed("a1", Phase::kSucceeded, 1);  // its executor died between the report and the Complete
  d.leases.Enqueue(ShellAction("a1", "touch " + dir.path() + "/ran"), /*handed_out_before=*/1);
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.leases.WaitDone("a1"));
  CHECK(d.leases.FinalPhase("a1") == static_cast<int>(Phase::kSucceeded));
  CHECK(d.state.Puts("a1").empty());
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/ran"));
}

TEST_CASE("start after a crash kills survivors from the journal and reports their attempt FAILED",
          "[executor][service][journal]") {
  TempDir dir;
  ServiceDoubles d;
  // A process group like one the dead executor left behind: a shell and its child, in their own group.
  pid_t leader = fork();
  if (leader == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", "sleep 60 & wait", nullptr);
    _exit(127);
  }
  setpgid(leader, leader);
  REQUIRE(WaitUntil([&] { return testing::LiveGroupMembers(leader) == 2; }, 5s));
  d.state.Seed("a1", Phase::kRunning, 2);
  {
    auto j = Journal::Open(dir.path() + "/.executor");
    REQUIRE(j.ok());
    JournalEntry e;
    e.lease_id = "lease-from-before";
    e.key = ActionKey{"testorg", "proj", "dev", "rtest", "a1"};
    e.parent_action_name = "a0";
    e.attempt = 2;
    e.pgid = leader;
    REQUIRE((*j)->Put(e).ok());
  }
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  CHECK(WaitUntil([&] { return testing::LiveGroupMembers(leader) == 0; }, 5s));
  int status = 0;
  waitpid(leader, &status, 0);
  CHECK(WaitUntil([&] { return ex->executor().started(); }, 5s));
  CHECK(d.state.Trace("a1") == "2:FAILED");
  CHECK(d.state.Puts("a1").front().error_code == kExecutorRestartedCode);
  auto entries = [&] {
    ex->Shutdown();
    auto j = Journal::Open(dir.path() + "/.executor");
    return j.ok() ? (*j)->Entries().size() : size_t{99};
  };
  CHECK(entries() == 0);
}

TEST_CASE("two executors cannot share a data root", "[executor][service][journal]") {
  TempDir dir;
  ServiceDoubles d;
  auto first = StartExecutor(d, TestConfig(dir.path()));
  auto second = ExecutorModule::Create(TestConfig(dir.path()), nullptr, d.Channel(), d.Channel());
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("shutdown kills running processes and gives their leases back", "[executor][service]") {
  TempDir dir;
  ServiceDoubles d;
  d.leases.Enqueue(ShellAction("a1", "echo $$ > " + dir.path() + "/pid; exec sleep 30"));
  auto ex = StartExecutor(d, TestConfig(dir.path()));
  REQUIRE(d.state.WaitPhase("a1", Phase::kRunning));
  REQUIRE(testing::WaitForFile(dir.path() + "/pid"));
  pid_t pid = testing::ReadPid(dir.path() + "/pid");
  ex->Shutdown();
  CHECK_FALSE(testing::IsAlive(pid));
  CHECK(d.leases.releases() == 1);
  CHECK(d.leases.FinalPhase("a1") == 0);
}

TEST_CASE("config: defaults, every key, unknown keys rejected", "[executor][config]") {
  absl::StatusOr<Config> def = LoadConfig("");
  REQUIRE(def.ok());
  CHECK(def->server.port == 8081);
  CHECK(def->queue_endpoint == "localhost:8089");
  CHECK(def->runs_endpoint == "localhost:8090");
  CHECK(def->data_root == "./data");
  absl::StatusOr<Config> c = ParseConfig(R"(
executor:
  server: {host: 127.0.0.1, port: 9001}
  queueEndpoint: q:1
  runsEndpoint: r:2
  taskEndpoint: dns:///t:3
  maxConcurrentProcesses: 3
  dataRoot: /tmp/x
  killGracePeriod: 2s
  leaseBatch: 5
  acquireWait: 1s
  heartbeatInterval: 500ms
  pythonPath: /venv/bin
  warmPython: false
logger: {level: 5}
)");
  REQUIRE(c.ok());
  CHECK(c->server.port == 9001);
  CHECK(c->max_concurrent_processes == 3);
  CHECK(c->kill_grace_period == 2s);
  ExecutorOptions o = ToExecutorOptions(*c);
  CHECK(o.runtime.env.endpoint == "dns:///t:3");
  CHECK(o.runtime.env.extra_path == "/venv/bin");
  CHECK_FALSE(o.runtime.warm_python);
  CHECK(ToExecutorOptions(*def).runtime.warm_python);
  CHECK_FALSE(ParseConfig("executor:\n  warmPython: maybe\n").ok());
  CHECK(ToExecutorOptions(*def).runtime.env.endpoint == "dns:///localhost:8090");
  absl::StatusOr<Config> bad = ParseConfig("executor:\n  maxConcurentProcesses: 3\n  leaseBatch: 0\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("executor.maxConcurentProcesses") != std::string::npos);
  CHECK(std::string(bad.status().message()).find("executor.leaseBatch") != std::string::npos);
}

TEST_CASE("config: executor.kubernetes.taskTmpOnDataVolume, on by default", "[executor][config]") {
  const std::string base = "executor:\n  runtime: kubernetes\n  dataRoot: /data\n  kubernetes:\n";
  absl::StatusOr<Config> def = ParseConfig(base + "    dataVolumeClaim: flyte-data\n");
  REQUIRE(def.ok());
  CHECK(def->kubernetes.task_tmp_on_data_volume);
  absl::StatusOr<Config> off = ParseConfig(base + "    dataVolumeClaim: flyte-data\n    taskTmpOnDataVolume: false\n");
  REQUIRE(off.ok());
  CHECK_FALSE(off->kubernetes.task_tmp_on_data_volume);
  absl::StatusOr<Config> bad = ParseConfig(base + "    taskTmpOnDataVolume: sometimes\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("executor.kubernetes.taskTmpOnDataVolume") != std::string::npos);
}

}  // namespace
}  // namespace flyte::executor
