// DataProxyService.TailLogs through the real runs-service (RunsService::Create from a Config) over a real gRPC
// channel, with the attempt's state written to the same SQLite file and its log to real files under the data
// root: follow until the attempt ends, NOT_FOUND and refused fields, and a client that goes away.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <grpcpp/grpcpp.h>

#include "flyte/testing/temp.h"
#include "flyteidl2/dataproxy/dataproxy_service.grpc.pb.h"
#include "repository/store_factory.h"
#include "setup.h"
#include "support/builders.h"

namespace flyte::runs {
namespace {

namespace dp = flyteidl2::dataproxy;
using namespace std::chrono_literals;

struct Stack {
  testing::TempDir dir{"flyte-taillogs"};
  std::unique_ptr<RunsService> service;
  std::unique_ptr<Store> store;  // a second Store on the same file: what the executor's reports would write
  std::unique_ptr<dp::DataProxyService::Stub> stub;

  explicit Stack(size_t max_streams = 64) {
    Config cfg;
    cfg.server.host = "127.0.0.1";
    cfg.server.port = 0;
    cfg.database.sqlite->file = (dir.path() / "runs.db").string();
    cfg.storage_prefix = "file://" + (dir.path() / "data").string();
    cfg.queue.endpoint = "";
    cfg.logs.poll_interval = 20ms;
    cfg.logs.phase_check_interval = 20ms;
    cfg.logs.max_streams = max_streams;
    auto s = RunsService::Create(cfg);
    REQUIRE(s.ok());
    service = std::move(*s);
    REQUIRE(service->Start().ok());
    auto st = OpenStore(cfg.database);
    REQUIRE(st.ok());
    store = std::move(*st);
    stub = dp::DataProxyService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(service->port()), grpc::InsecureChannelCredentials()));
  }

  ActionKey CreateRunning(const std::string& run) {
    Action a = test::MakeRun(run);
    a.run_output_base = "";  // <data>/<org>/<project>/<domain>/<run>, as the executor lays it out without one
    REQUIRE(store->Actions().CreateRun(a).ok());
    REQUIRE(store->Actions().ApplyEvent(a.key, test::MakeEvent(1, Phase::kRunning, 1)).ok());
    return a.key;
  }
  void End(const ActionKey& key) {
    REQUIRE(store->Actions().ApplyEvent(key, test::MakeEvent(1, Phase::kSucceeded, 2)).ok());
  }
  void Print(const ActionKey& key, const std::string& file, const std::string& text) {
    std::filesystem::path p = dir.path() / "data" / key.run.org / key.run.project / key.run.domain / key.run.name /
                              key.name / "1" / file;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::app) << text;
  }
  dp::TailLogsRequest Request(const ActionKey& key, uint32_t attempt = 1) {
    dp::TailLogsRequest req;
    auto* id = req.mutable_action_id();
    id->mutable_run()->set_org(key.run.org);
    id->mutable_run()->set_project(key.run.project);
    id->mutable_run()->set_domain(key.run.domain);
    id->mutable_run()->set_name(key.run.name);
    id->set_name(key.name);
    req.set_attempt(attempt);
    return req;
  }
  std::string Metric(const std::string& name) {
    std::string text = service->metrics().Serialize();
    size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return "";
    size_t start = at + name.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }
};

// Reads messages until `want` lines arrived; returns them "container: text".
std::vector<std::string> ReadLines(grpc::ClientReader<dp::TailLogsResponse>& reader, size_t want) {
  std::vector<std::string> out;
  dp::TailLogsResponse resp;
  while (out.size() < want && reader.Read(&resp)) {
    for (const auto& logs : resp.logs()) {
      for (const auto& line : logs.lines()) {
        out.push_back(logs.container().kubernetes_container_name() + ": " + line.message());
        CHECK(line.has_timestamp());
      }
    }
  }
  return out;
}

TEST_CASE("TailLogs follows an attempt's stdout and stderr and ends when the attempt ends", "[logs][api][sqlite]") {
  Stack stack;
  ActionKey key = stack.CreateRunning("r1");
  stack.Print(key, "stdout.log", "hello from stdout\n");
  stack.Print(key, "stderr.log", "hello from stderr\n");

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  auto reader = stack.stub->TailLogs(&ctx, stack.Request(key));
  CHECK(ReadLines(*reader, 2) ==
        std::vector<std::string>{"stdout: hello from stdout\n", "stderr: hello from stderr\n"});

  // Written after the request started: it arrives while the attempt runs.
  stack.Print(key, "stdout.log", "later\n");
  CHECK(ReadLines(*reader, 1) == std::vector<std::string>{"stdout: later\n"});

  stack.Print(key, "stdout.log", "last words\n");
  stack.End(key);
  CHECK(ReadLines(*reader, 1) == std::vector<std::string>{"stdout: last words\n"});
  dp::TailLogsResponse extra;
  CHECK_FALSE(reader->Read(&extra));
  grpc::Status st = reader->Finish();
  CHECK(st.ok());
}

TEST_CASE("TailLogs: unknown action or attempt is NOT_FOUND, unsupported fields are refused by name",
          "[logs][api][sqlite]") {
  Stack stack;
  ActionKey key = stack.CreateRunning("r1");
  auto finish = [&](const dp::TailLogsRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    auto reader = stack.stub->TailLogs(&ctx, req);
    dp::TailLogsResponse resp;
    while (reader->Read(&resp)) {
    }
    return reader->Finish();
  };
  grpc::Status st = finish(stack.Request(test::KeyOf("ghost")));
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message().find("ghost") != std::string::npos);
  st = finish(stack.Request(key, 2));
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message().find("attempt 2") != std::string::npos);
  dp::TailLogsRequest pod = stack.Request(key);
  pod.set_pod_name("some-pod");
  st = finish(pod);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("pod_name") != std::string::npos);
  dp::TailLogsRequest connector = stack.Request(key);
  connector.set_connector_endpoint("dns:///x");
  st = finish(connector);
  CHECK(st.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK(st.error_message().find("connector_endpoint") != std::string::npos);
  dp::TailLogsRequest no_id;
  st = finish(no_id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("action_id") != std::string::npos);
}

TEST_CASE("a client that goes away ends its stream and its thread; maxStreams bounds open streams",
          "[logs][api][sqlite]") {
  Stack stack(/*max_streams=*/1);
  ActionKey key = stack.CreateRunning("r1");
  stack.Print(key, "stdout.log", "running forever\n");
  {
    grpc::ClientContext ctx;
    auto reader = stack.stub->TailLogs(&ctx, stack.Request(key));
    REQUIRE(ReadLines(*reader, 1).size() == 1);
    CHECK(stack.Metric("flyte_runs_log_streams") == "1");

    // A second stream is over the limit.
    grpc::ClientContext ctx2;
    auto second = stack.stub->TailLogs(&ctx2, stack.Request(key));
    dp::TailLogsResponse resp;
    CHECK_FALSE(second->Read(&resp));
    grpc::Status st = second->Finish();
    CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(st.error_message().find("runs.logs.maxStreams") != std::string::npos);

    ctx.TryCancel();
    (void)reader->Finish();
  }
  CHECK(test::WaitFor([&] { return stack.Metric("flyte_runs_log_streams") == "0"; }));
  // The slot is free again.
  grpc::ClientContext ctx3;
  auto again = stack.stub->TailLogs(&ctx3, stack.Request(key));
  CHECK(ReadLines(*again, 1) == std::vector<std::string>{"stdout: running forever\n"});
  ctx3.TryCancel();
  (void)again->Finish();
}

}  // namespace
}  // namespace flyte::runs
