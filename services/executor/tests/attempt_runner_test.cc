#include "runtime/attempt_runner.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "flyteidl2/core/execution.pb.h"
#include "flyteidl2/task/common.pb.h"
#include "runtime/local_runtime.h"
#include "runtime/output_localizer.h"
#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {

using testing::MakeAction;
using testing::Recorder;
using testing::ShellTemplate;
using testing::TempDir;
using namespace std::chrono_literals;

struct Harness {
  TempDir dir;
  Recorder recorder;
  LocalRuntime runtime;

  explicit Harness(size_t max_concurrent = 4)
      : runtime(
            LocalRuntimeOptions{
                .data_root = dir / "data",
                .max_concurrent = max_concurrent,
                .env = TaskEnvironmentOptions{.endpoint = "dns:///127.0.0.1:8090"},
                .abort_grace = 300ms,
                .timeout_grace = 300ms,
            },
            [this](const ActionTransition& t) { recorder(t); }) {}

  // Runs one action to its final transition.
  std::vector<ActionTransition> Run(ActionToRun action) {
    REQUIRE(runtime.Submit(std::move(action)).ok());
    REQUIRE(recorder.WaitFinal());
    return recorder.all();
  }
};

std::string AttemptDir(const Harness& h, const ActionToRun& a, int attempt) {
  return h.dir / ("data/" + a.key.org + "/" + a.key.project + "/" + a.key.domain + "/" + a.key.run_name + "/" +
                  a.key.action_name + "/" + std::to_string(attempt));
}

// Scripts get the output prefix as $1 (a file:// URI); ${1#file://} is its local path.
const std::vector<std::string> kOutArg = {"{{.outputPrefix}}"};

TEST_CASE("success: INITIALIZING, RUNNING, SUCCEEDED with the output prefix", "[executor][runner]") {
  Harness h;
  ActionToRun a = MakeAction("a0", ShellTemplate("echo out-data > \"${1#file://}/outputs.pb\"", kOutArg));
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  REQUIRE(ts.size() == 3);
  std::string attempt_dir = AttemptDir(h, a, 1);
  CHECK(ts[2].output_uri == "file://" + attempt_dir);
  CHECK(testing::ReadFile(attempt_dir + "/outputs.pb") == "out-data\n");
  CHECK(absl::StartsWith(ts[1].cluster_event, "process started pid "));
  CHECK(ts[2].cluster_event == "process exited with code 0");
  CHECK(ts[2].final);
  CHECK_FALSE(ts[0].final);
  CHECK_FALSE(ts[2].error.has_value());
  CHECK(ts[2].stdout_uri == "file://" + attempt_dir + "/stdout.log");
  for (size_t i = 1; i < ts.size(); ++i) CHECK(ts[i].time >= ts[i - 1].time);
  for (const auto& t : ts) CHECK(t.key == a.key);
  CHECK(h.runtime.active() == 0);
}

TEST_CASE("non-zero exit: FAILED with the exit code and the tail of stderr", "[executor][runner]") {
  Harness h;
  auto ts = h.Run(MakeAction("a0", ShellTemplate("echo 'something broke: bad input' >&2; exit 3")));
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:FAILED");
  const ActionTransition& failed = ts.back();
  REQUIRE(failed.error.has_value());
  CHECK(failed.error->code == "NonZeroExit");
  CHECK_THAT(failed.error->message, Catch::Contains("exited with code 3"));
  CHECK_THAT(failed.error->message, Catch::Contains("something broke: bad input"));
  CHECK(failed.output_uri.empty());
  CHECK(failed.cluster_event == "process exited with code 3");
}

void WriteErrorDocument(const std::string& path, const std::string& message,
                        flyteidl2::core::ContainerError::Kind kind) {
  flyteidl2::core::ErrorDocument doc;
  doc.mutable_error()->set_code("ValueError");
  doc.mutable_error()->set_message(message);
  doc.mutable_error()->set_kind(kind);
  doc.mutable_error()->set_origin(flyteidl2::core::ExecutionError::USER);
  std::ofstream out(path, std::ios::binary);
  REQUIRE(doc.SerializeToOstream(&out));
}

TEST_CASE("error.pb with exit 0 is FAILED with the document's message", "[executor][runner]") {
  Harness h;
  std::string doc = h.dir / "error.pb";
  WriteErrorDocument(doc, "division by zero in my_task", flyteidl2::core::ContainerError::NON_RECOVERABLE);
  // Non-recoverable: not retried although the task allows two retries.
  auto ts = h.Run(MakeAction("a0", ShellTemplate("cp " + doc + " \"${1#file://}/error.pb\"; exit 0", kOutArg, 2)));
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:FAILED");
  REQUIRE(ts.back().error.has_value());
  CHECK(ts.back().error->message == "division by zero in my_task");
  CHECK(ts.back().error->code == "ValueError");
  CHECK(ts.back().error->kind == ErrorKind::kUser);
  CHECK_FALSE(ts.back().error->retryable);
  CHECK_THAT(ts.back().cluster_event, Catch::Contains("error document"));
}

TEST_CASE("a recoverable error.pb is retried", "[executor][runner]") {
  Harness h;
  std::string doc = h.dir / "error.pb";
  WriteErrorDocument(doc, "flaky", flyteidl2::core::ContainerError::RECOVERABLE);
  auto ts = h.Run(MakeAction("a0", ShellTemplate("cp " + doc + " \"${1#file://}/error.pb\"", kOutArg, 1)));
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING 2:FAILED");
  CHECK(ts.back().error->retryable);
}

TEST_CASE("retries produce attempts 1..n+1", "[executor][runner]") {
  Harness h;
  auto ts = h.Run(MakeAction("a0", ShellTemplate("exit 1", {}, 2)));
  CHECK(h.recorder.Trace() ==
        "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING 2:FAILED 3:INITIALIZING 3:RUNNING 3:FAILED");
  int finals = 0;
  for (const auto& t : ts) finals += t.final ? 1 : 0;
  CHECK(finals == 1);
  CHECK(ts.back().final);
  CHECK_THAT(ts[2].cluster_event, Catch::Contains("retrying as attempt 2"));
}

TEST_CASE("a retry that succeeds ends SUCCEEDED on attempt 2 and sees the previous checkpoint",
          "[executor][runner]") {
  Harness h;
  std::string marker = h.dir / "tried-once";
  ActionToRun a = MakeAction(
      "a0", ShellTemplate("echo \"$1\" >> " + (h.dir / "prev") + "; if [ -f " + marker + " ]; then exit 0; fi; touch " +
                              marker + "; exit 1",
                          {"{{.prevCheckpointPrefix}}"}, 3));
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:FAILED 2:INITIALIZING 2:RUNNING 2:SUCCEEDED");
  CHECK(ts.back().output_uri == "file://" + AttemptDir(h, a, 2));
  CHECK(testing::ReadFile(h.dir / "prev") == "\nfile://" + AttemptDir(h, a, 1) + "/checkpoint\n");
}

TEST_CASE("timeout: TIMED_OUT and the whole process group is gone", "[executor][runner]") {
  Harness h;
  std::string pids = h.dir / "pids";
  auto t0 = std::chrono::steady_clock::now();
  auto ts = h.Run(MakeAction("a0", ShellTemplate("echo $$ > " + pids + ".sh; sleep 30 & echo $! > " + pids +
                                                     ".bg; wait",
                                                 {}, 0, /*timeout_seconds=*/1)));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:TIMED_OUT");
  CHECK(elapsed >= 1s);
  CHECK(elapsed < 10s);
  REQUIRE(ts.back().error.has_value());
  CHECK(ts.back().error->code == "Timeout");
  CHECK_THAT(ts.back().error->message, Catch::Contains("timeout of 1s"));
  pid_t sh = testing::ReadPid(pids + ".sh");
  pid_t bg = testing::ReadPid(pids + ".bg");
  REQUIRE(sh > 0);
  REQUIRE(bg > 0);
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(testing::IsAlive(sh));
  CHECK_FALSE(testing::IsAlive(bg));
  CHECK(testing::LiveGroupMembers(sh) == 0);
}

TEST_CASE("abort kills the process tree and ends ABORTED", "[executor][runner]") {
  Harness h;
  std::string pids = h.dir / "pids";
  ActionToRun a = MakeAction("a0", ShellTemplate("trap '' TERM; echo $$ > " + pids + ".sh; sleep 30 & echo $! > " +
                                                     pids + ".bg; wait; wait",
                                                 {}, /*retries=*/3));
  REQUIRE(h.runtime.Submit(a).ok());
  REQUIRE(h.recorder.WaitPhase(Phase::kRunning));
  REQUIRE(testing::WaitForFile(pids + ".bg"));
  pid_t sh = testing::ReadPid(pids + ".sh");
  pid_t bg = testing::ReadPid(pids + ".bg");
  REQUIRE(testing::IsAlive(sh));
  REQUIRE(testing::IsAlive(bg));
  CHECK(h.runtime.Submit(a).code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(h.runtime.Abort(a.key, "user asked").ok());
  REQUIRE(h.recorder.WaitFinal());
  // Both ignore SIGTERM, so this also proves the SIGKILL after the grace period; aborts are never retried.
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:ABORTED");
  auto ts = h.recorder.all();
  REQUIRE(ts.back().error.has_value());
  CHECK(ts.back().error->message == "user asked");
  CHECK_THAT(ts.back().cluster_event, Catch::Contains("killed by signal 9"));
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(testing::IsAlive(sh));
  CHECK_FALSE(testing::IsAlive(bg));
  CHECK(testing::LiveGroupMembers(sh) == 0);
  CHECK(h.runtime.Abort(a.key, "again").code() == absl::StatusCode::kNotFound);
}

TEST_CASE("abort while waiting for a process slot ends ABORTED without a process", "[executor][runner]") {
  Harness h(/*max_concurrent=*/1);
  REQUIRE(h.runtime.Submit(MakeAction("busy", ShellTemplate("sleep 30"))).ok());
  ActionToRun waiting = MakeAction("waiting", ShellTemplate("touch " + (h.dir / "ran")));
  REQUIRE(h.runtime.Submit(waiting).ok());
  REQUIRE(h.runtime.Abort(waiting.key, "not needed").ok());
  REQUIRE(h.recorder.WaitPhase(Phase::kAborted));
  std::string trace;
  for (const auto& t : h.recorder.all()) {
    if (t.key == waiting.key) trace += std::string(PhaseName(t.phase)) + " ";
  }
  CHECK(trace == "INITIALIZING ABORTED ");
  CHECK_FALSE(std::filesystem::exists(h.dir / "ran"));
}

TEST_CASE("template variables are substituted; unknown ones are kept and reported", "[executor][runner]") {
  Harness h;
  ActionToRun a = MakeAction(
      "a1", ShellTemplate("printf '%s\\n' \"$@\" > " + (h.dir / "args"),
                          {"{{.input}}", "{{.inputPrefix}}", "{{.outputPrefix}}", "{{.rawOutputDataPrefix}}",
                           "{{.checkpointOutputPrefix}}", "[{{.prevCheckpointPrefix}}]", "{{.runName}}",
                           "{{ .actionName }}", "{{.runStartTime}}", "--x={{.xyz}}", "{{.RUNNAME}}-{{$actionName}}"}));
  a.input_uri = "file:///inputs/run1";
  a.run_start_time = common::FromUnixMicros(1'700'000'000'123'456);
  auto ts = h.Run(a);
  REQUIRE(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  std::string d = "file://" + AttemptDir(h, a, 1);
  CHECK(testing::ReadFile(h.dir / "args") ==
        "file:///inputs/run1/inputs.pb\nfile:///inputs/run1\n" + d + "\n" + d + "/raw\n" + d + "/checkpoint\n[]\n" +
            "rtest\na1\n2023-11-14T22:13:20.123456+00:00\n--x={{.xyz}}\nrtest-a1\n");
  CHECK_THAT(ts[0].cluster_event, Catch::Contains("{{.xyz}}"));
}

TEST_CASE("the task sees the identity env, the container env and the run envs on top", "[executor][runner]") {
  setenv("FLYTECTL_CONFIG", "/home/user/.flyte/config.yaml", 1);
  setenv("UCTL_CONFIG", "/home/user/.union/config.yaml", 1);
  Harness h;
  ActionToRun a = MakeAction("a0", ShellTemplate("env > " + (h.dir / "env"), {}, 0, 0,
                                                 {{"FROM_TEMPLATE", "t"}, {"OVERRIDDEN", "template"}}));
  a.envs = {{"FROM_RUN", "r"}, {"OVERRIDDEN", "run"}};
  a.run_output_base = "file://" + (h.dir / "runs/rtest");
  auto ts = h.Run(a);
  unsetenv("FLYTECTL_CONFIG");
  unsetenv("UCTL_CONFIG");
  REQUIRE(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  std::string env = testing::ReadFile(h.dir / "env");
  for (const std::string& line : std::vector<std::string>{"ACTION_NAME=a0", "RUN_NAME=rtest", "FLYTE_INTERNAL_EXECUTION_PROJECT=proj",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN=dev", "_U_ORG_NAME=testorg", "_U_RUN_BASE=file://" + (h.dir / "runs/rtest"),
        "_U_EP_OVERRIDE=dns:///127.0.0.1:8090", "_U_INSECURE=true", "FSSPEC_FILE_AUTO_MKDIR=true",
        "FLYTE_DISABLE_SENTRY=true", "FROM_TEMPLATE=t", "FROM_RUN=r", "OVERRIDDEN=run"}) {
    INFO(line);
    CHECK(absl::StrContains(env, line + "\n"));
  }
  CHECK_FALSE(absl::StrContains(env, "FLYTECTL_CONFIG"));
  CHECK_FALSE(absl::StrContains(env, "UCTL_CONFIG"));
  CHECK(absl::StrContains(env, "PATH="));  // the host environment is inherited
  // With a file:// run output base the attempt lives under it.
  CHECK(ts.back().output_uri == "file://" + (h.dir / "runs/rtest/a0/1"));
}

TEST_CASE("an org-less action gets a non-empty _U_ORG_NAME", "[executor][runner]") {
  Harness h;
  ActionToRun a = MakeAction("a0", ShellTemplate("echo \"$_U_ORG_NAME\" > " + (h.dir / "org")));
  a.key.org = "";
  auto ts = h.Run(a);
  CHECK(testing::ReadFile(h.dir / "org") == "local\n");
  CHECK(ts.back().output_uri == "file://" + (h.dir / "data/local/proj/dev/rtest/a0/1"));
}

TEST_CASE("invalid tasks fail without a process", "[executor][runner]") {
  Harness h;
  ActionToRun a = MakeAction("a0", "");
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:FAILED");
  CHECK(ts.back().error->code == "InvalidTask");

  Harness h2;
  flyteidl2::core::TaskTemplate no_container;
  no_container.set_type("sql");
  ts = h2.Run(MakeAction("a0", no_container.SerializeAsString()));
  CHECK(h2.recorder.Trace() == "1:FAILED");
  CHECK_THAT(ts.back().error->message, Catch::Contains("container"));
}

// An Outputs message naming `uris` as blobs: o0 a single blob, o1 a list of the rest.
flyteidl2::task::Outputs BlobOutputs(const std::vector<std::string>& uris) {
  flyteidl2::task::Outputs out;
  flyteidl2::task::NamedLiteral* first = out.add_literals();
  first->set_name("o0");
  first->mutable_value()->mutable_scalar()->mutable_blob()->set_uri(uris.at(0));
  flyteidl2::task::NamedLiteral* rest = out.add_literals();
  rest->set_name("o1");
  for (size_t i = 1; i < uris.size(); ++i) {
    rest->mutable_value()->mutable_collection()->add_literals()->mutable_scalar()->mutable_blob()->set_uri(uris[i]);
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

flyteidl2::task::Outputs ReadOutputs(const std::string& path) {
  flyteidl2::task::Outputs out;
  REQUIRE(out.ParseFromString(testing::ReadFile(path)));
  return out;
}

TEST_CASE("output blobs outside the data root are copied into raw/ and renamed there", "[executor][localize]") {
  TempDir dir;
  const std::vector<std::string> shared = {dir / "data", dir / "runs-elsewhere/r1"};
  const std::string root = dir / "data", raw = dir / "data/run/a0/1/raw", outputs = dir / "data/run/a0/1/outputs.pb";
  WriteFile(dir / "tmp/x.txt", "file bytes");
  WriteFile(dir / "tmp/d/sub/y.txt", "dir bytes");
  WriteFile(root + "/shared.txt", "already shared");
  WriteFile(dir / "runs-elsewhere/r1/a0/1/raw/df/part.parquet", "frame");
  const std::vector<std::string> uris = {dir / "tmp/x.txt", "file://" + (dir / "tmp/d"), root + "/shared.txt",
                                         "s3://bucket/key", dir / "tmp/gone.txt", dir / "runs-elsewhere/r1/a0/1/raw/df"};
  WriteFile(outputs, BlobOutputs(uris).SerializeAsString());

  const OutputBlobPolicy policy{shared, raw, std::nullopt};
  absl::StatusOr<OutputBlobChanges> n = LocalizeOutputBlobs(outputs, policy);
  REQUIRE(n.ok());
  CHECK(n->copied == 2);
  CHECK(n->renamed == 0);
  CHECK(n->left == 1);  // the missing one
  flyteidl2::task::Outputs got = ReadOutputs(outputs);
  const std::string file_uri = got.literals(0).value().scalar().blob().uri();
  const auto& list = got.literals(1).value().collection().literals();
  CHECK(file_uri == raw + "/localized/0/x.txt");  // a bare path: what the SDK's File.open reads
  CHECK(testing::ReadFile(file_uri) == "file bytes");
  CHECK(list[0].scalar().blob().uri() == raw + "/localized/1/d");
  CHECK(testing::ReadFile(raw + "/localized/1/d/sub/y.txt") == "dir bytes");
  CHECK(list[1].scalar().blob().uri() == uris[2]);  // on the data volume already
  CHECK(list[2].scalar().blob().uri() == uris[3]);  // an object store
  CHECK(list[3].scalar().blob().uri() == uris[4]);  // missing: left for the reader to report
  CHECK(list[4].scalar().blob().uri() == uris[5]);  // in the run's own directory
  // The copies stay when the task's own files go.
  std::filesystem::remove_all(dir / "tmp");
  CHECK(testing::ReadFile(file_uri) == "file bytes");

  // Nothing left to move: the file is not rewritten.
  REQUIRE(LocalizeOutputBlobs(outputs, policy).ok());
  CHECK(LocalizeOutputBlobs(outputs, policy)->copied == 0);
  CHECK(LocalizeOutputBlobs(dir / "data/none/outputs.pb", policy)->copied == 0);
}

TEST_CASE("Kubernetes: output blobs under the Pod's /tmp are renamed to the attempt's tmp on the data volume",
          "[executor][localize]") {
  TempDir dir;
  const std::string root = dir / "data", attempt = root + "/o/p/d/r1/a0/1", on_volume = attempt + "/tmp";
  const std::string outputs = attempt + "/outputs.pb";
  WriteFile(on_volume + "/x.txt", "file bytes");
  WriteFile(on_volume + "/d/sub/y.txt", "dir bytes");
  WriteFile(root + "/shared.txt", "already shared");
  // A file in the executor's own /tmp with the name a blob gives: the Pod's path must not be looked up here.
  const std::string executor_tmp = "/tmp/flyte-localizer-test-" + std::to_string(::getpid()) + ".txt";
  WriteFile(executor_tmp, "the executor's, not the task's");
  const std::vector<std::string> uris = {"/tmp/x.txt",      "file:///tmp/d/",     root + "/shared.txt",
                                         "s3://bucket/key", "/tmp/gone.txt",      executor_tmp,
                                         "/home/task/o.csv", "/tmp/../etc/passwd", "/tmp/./d/sub/y.txt"};
  WriteFile(outputs, BlobOutputs(uris).SerializeAsString());

  const OutputBlobPolicy policy{{root, root + "/o/p/d/r1"}, "", TaskDirOnVolume{"/tmp", on_volume}};
  absl::StatusOr<OutputBlobChanges> n = LocalizeOutputBlobs(outputs, policy);
  std::filesystem::remove(executor_tmp);
  REQUIRE(n.ok());
  CHECK(n->renamed == 3);
  CHECK(n->copied == 0);
  CHECK(n->left == 4);
  flyteidl2::task::Outputs got = ReadOutputs(outputs);
  const auto& list = got.literals(1).value().collection().literals();
  CHECK(got.literals(0).value().scalar().blob().uri() == on_volume + "/x.txt");  // bare: what File.open reads
  CHECK(testing::ReadFile(got.literals(0).value().scalar().blob().uri()) == "file bytes");
  CHECK(list[0].scalar().blob().uri() == on_volume + "/d");
  CHECK(list[1].scalar().blob().uri() == uris[2]);  // on the data volume already
  CHECK(list[2].scalar().blob().uri() == uris[3]);  // an object store
  CHECK(list[3].scalar().blob().uri() == uris[4]);  // not on the volume: left, the reader reports it
  CHECK(list[4].scalar().blob().uri() == uris[5]);  // the same name in the executor's /tmp changes nothing
  CHECK(list[5].scalar().blob().uri() == uris[6]);  // elsewhere in the Pod: gone with it
  CHECK(list[6].scalar().blob().uri() == uris[7]);  // not under /tmp once normalised
  CHECK(list[7].scalar().blob().uri() == on_volume + "/d/sub/y.txt");
  CHECK(testing::ReadFile(on_volume + "/d/sub/y.txt") == "dir bytes");  // only the literal changed

  // Only the left ones remain: outputs.pb is not rewritten again.
  auto again = LocalizeOutputBlobs(outputs, policy);
  REQUIRE(again.ok());
  CHECK(again->renamed == 0);
  CHECK(again->renamed_before == 3);
  CHECK(again->left == 4);
}

TEST_CASE("a task's output file in its temp dir is in the run's data when the attempt SUCCEEDS",
          "[executor][runner][localize]") {
  Harness h;
  const std::string src = h.dir / "task-tmp/made.txt";
  WriteFile(h.dir / "outputs.template.pb", BlobOutputs({src}).SerializeAsString());
  ActionToRun a = MakeAction(
      "a0", ShellTemplate("mkdir -p \"" + (h.dir / "task-tmp") + "\" && echo made > \"" + src + "\" && cp \"" +
                              (h.dir / "outputs.template.pb") + "\" \"${1#file://}/outputs.pb\"",
                          kOutArg));
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  const std::string attempt_dir = AttemptDir(h, a, 1);
  CHECK(ts.back().cluster_event == "process exited with code 0; 1 output file(s) copied into raw/");
  const std::string copied = ReadOutputs(attempt_dir + "/outputs.pb").literals(0).value().scalar().blob().uri();
  CHECK(copied == attempt_dir + "/raw/localized/0/made.txt");
  std::filesystem::remove_all(h.dir / "task-tmp");
  CHECK(testing::ReadFile(copied) == "made\n");
}

TEST_CASE("a missing executable is a non-retried FAILED", "[executor][runner]") {
  Harness h;
  flyteidl2::core::TaskTemplate t;
  t.mutable_container()->add_command("/definitely/not/here");
  t.mutable_metadata()->mutable_retries()->set_retries(2);
  auto ts = h.Run(MakeAction("a0", t.SerializeAsString()));
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:FAILED");
  CHECK(ts.back().error->code == "SpawnFailed");
  CHECK(ts.back().error->kind == ErrorKind::kSystem);
}

}  // namespace
}  // namespace flyte::executor
