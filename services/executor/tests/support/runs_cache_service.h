#pragma once
// The REAL runs-service binary (RUNS_BINARY) on a free port over a temp SQLite file, for tests of the task output
// cache through the real gRPC client (its CacheService). Stopped on destruction. Header-only: test binaries only.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "clients/grpc_cache_client.h"
#include "flyte/testing/temp.h"
#include "runtime_testing.h"

namespace flyte::executor::testing {

struct RunsCacheService {
  flyte::testing::TempDir dir{"flyte-task-cache"};
  pid_t pid = -1;
  int port = FreePort();
  std::unique_ptr<GrpcCacheClient> client;

  RunsCacheService() {
    using namespace std::chrono_literals;
    const std::string cfg = (dir.path() / "runs.yaml").string();
    std::ofstream(cfg) << "runs:\n  server: {host: 127.0.0.1, port: " << port << "}\n  storagePrefix: file://"
                       << (dir.path() / "data").string() << "\ndatabase:\n  sqlite: {file: "
                       << (dir.path() / "runs.db").string() << "}\n";
    const std::string log = (dir.path() / "runs.log").string();
    pid = fork();
    if (pid == 0) {
      FILE* f = freopen(log.c_str(), "a", stderr);
      (void)f;
      execl(RUNS_BINARY, RUNS_BINARY, "--config", cfg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    client = std::make_unique<GrpcCacheClient>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()), 2s);
    CacheIdentity probe{"o", "", "", "probe"};
    REQUIRE(WaitUntil([&] { return client->Get(probe).status().code() == absl::StatusCode::kNotFound; }, 30s));
  }
  ~RunsCacheService() {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
};

}  // namespace flyte::executor::testing
