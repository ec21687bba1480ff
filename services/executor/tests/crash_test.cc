// kill -9 of the executor binary mid-action, against the real queue-service binary: after a restart the action
// completes, with never more than one attempt's processes alive, and every transition accepted by runs-service's
// phase rule (runs-service is the StateService test double here, hosted in this process).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "absl/strings/str_split.h"
#include "flyteidl2/workflow/queue_service.grpc.pb.h"
#include "service/journal.h"
#include "support/service_doubles.h"

namespace flyte::executor {
namespace {
using namespace std::chrono_literals;
using testing::FreePort;
using testing::ReadFile;
using testing::WaitUntil;
using testing::ShellAction;

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "a", stderr);
    (void)f;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void Stop(pid_t pid, int sig) {
  if (pid <= 0) return;
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
}

// Process groups of the attempts (each attempt appends its $$ = its group id to `file`) that have live members.
int LiveAttemptGroups(const std::string& file) {
  int n = 0;
  std::set<pid_t> seen;
  for (absl::string_view line : absl::StrSplit(ReadFile(file), '\n', absl::SkipEmpty())) {
    pid_t pgid = static_cast<pid_t>(std::stol(std::string(line)));
    if (seen.insert(pgid).second && testing::LiveGroupMembers(pgid) > 0) ++n;
  }
  return n;
}

TEST_CASE("kill -9 of the executor mid-action: after a restart the action completes, one attempt at a time",
          "[executor][crash]") {
  testing::TempDir dir;
  testing::ServiceDoubles runs;  // its StateService double plays runs-service
  const int queue_port = FreePort();
  {
    std::ofstream q(dir / "queue.yaml");
    q << "queue:\n  server: {host: 127.0.0.1, port: " << queue_port << "}\n"
      << "  leaseDuration: 2s\n  pollInterval: 100ms\n"
      << "database:\n  sqlite: {file: " << dir / "queue.db" << "}\n";
    std::ofstream e(dir / "executor.yaml");
    e << "executor:\n  server: {host: 127.0.0.1, port: 0}\n"
      << "  queueEndpoint: 127.0.0.1:" << queue_port << "\n"
      << "  runsEndpoint: " << runs.endpoint() << "\n"
      << "  dataRoot: " << dir / "data" << "\n"
      << "  acquireWait: 500ms\n  killGracePeriod: 500ms\n";
  }
  pid_t queue = Spawn({QUEUE_BINARY, "--config", dir / "queue.yaml"}, dir / "queue.log");
  pid_t executor = Spawn({EXECUTOR_BINARY, "--config", dir / "executor.yaml"}, dir / "executor.log");

  // Enqueue through the real QueueService once it listens.
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(queue_port), grpc::InsecureChannelCredentials());
  auto stub = flyteidl2::workflow::QueueService::NewStub(channel);
  const std::string groups = dir / "groups";
  // A shell that keeps a child (so PR_SET_PDEATHSIG alone would leave the child behind: the journal must kill
  // it); the first attempt sleeps long, later ones finish at once.
  auto action = ShellAction("a1", "echo $$ >> " + groups +
                                      "; if [ \"$FLYTE_ATTEMPT_NUMBER\" = 0 ]; then sleep 30; else sleep 0.2; fi; "
                                      "echo done");
  bool enqueued = WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 1s);
        flyteidl2::workflow::EnqueueActionResponse resp;
        return stub->EnqueueAction(&ctx, action, &resp).ok();
      },
      15s);
  REQUIRE(enqueued);

  std::atomic<bool> watching{true};
  std::atomic<int> max_live{0};
  std::thread watcher([&] {
    while (watching) {
      int n = LiveAttemptGroups(groups);
      if (n > max_live) max_live = n;
      std::this_thread::sleep_for(5ms);
    }
  });

  REQUIRE(runs.state.WaitPhase("a1", Phase::kRunning, 15s));
  REQUIRE(WaitUntil([&] { return LiveAttemptGroups(groups) == 1; }, 5s));
  Stop(executor, SIGKILL);
  // Its task process (the group leader) dies with it; the shell's child may linger until the restart.
  executor = Spawn({EXECUTOR_BINARY, "--config", dir / "executor.yaml"}, dir / "executor.log");

  bool succeeded = runs.state.WaitPhase("a1", Phase::kSucceeded, 30s);
  watching = false;
  watcher.join();
  Stop(executor, SIGTERM);
  Stop(queue, SIGTERM);
  INFO("executor log:\n" << ReadFile(dir / "executor.log"));
  REQUIRE(succeeded);
  CHECK(runs.state.Trace("a1") == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING 2:SUCCEEDED");
  CHECK(runs.state.rejected() == 0);
  CHECK(max_live.load() <= 1);
  CHECK(LiveAttemptGroups(groups) == 0);
  // The journal lists no lease after a clean stop.
  auto journal = Journal::Open(dir / "data/.executor");
  REQUIRE(journal.ok());
  CHECK((*journal)->Entries().empty());
}

}  // namespace
}  // namespace flyte::executor
