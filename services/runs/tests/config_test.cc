#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "config.h"

using flyte::runs::Config;
using flyte::runs::LoadConfig;
using flyte::runs::ParseConfig;
using namespace std::chrono_literals;

namespace {

// The repository's deploy/config, found by walking up from the working directory (ctest runs tests inside the
// build tree, which lives in the repository) or from this file's path.
std::string DeployConfigDir() {
  for (std::filesystem::path start : {std::filesystem::current_path(), std::filesystem::path(__FILE__)}) {
    for (std::filesystem::path p = std::filesystem::absolute(start); p.has_relative_path(); p = p.parent_path()) {
      if (std::filesystem::exists(p / "deploy/config/runs-service.yaml")) return (p / "deploy/config/").string();
    }
  }
  FAIL("deploy/config/runs-service.yaml not found above " << std::filesystem::current_path());
  return "";
}

}  // namespace

TEST_CASE("no config means 0.0.0.0:8090 on SQLite ./runs.db", "[unit][config]") {
  absl::StatusOr<Config> cfg = LoadConfig("");
  REQUIRE(cfg.ok());
  CHECK(cfg->server.host == "0.0.0.0");
  CHECK(cfg->server.port == 8090);
  REQUIRE(cfg->database.sqlite);
  CHECK(cfg->database.sqlite->file == "./runs.db");
  CHECK_FALSE(cfg->database.postgres);
  CHECK(cfg->logger.level == 4);
  CHECK(cfg->watch_buffer_size == 100);
  // An empty file is the same as no file.
  absl::StatusOr<Config> empty = ParseConfig("");
  REQUIRE(empty.ok());
  CHECK(empty->server.port == 8090);
}

TEST_CASE("the seed's runs-service config.yaml is accepted as is", "[unit][config]") {
  absl::StatusOr<Config> cfg = ParseConfig(R"(
runs:
  server:
    host: "0.0.0.0"
    port: 8091
  watchBufferSize: 100

database:
  sqlite:
    file: "./runs.db"

logger:
  level: 4  # Info level
  show-source: true
)");
  REQUIRE(cfg.ok());
  CHECK(cfg->server.port == 8091);
  CHECK(cfg->logger.show_source);
}

TEST_CASE("every problem of a bad config is reported at once", "[unit][config]") {
  absl::StatusOr<Config> cfg = ParseConfig(R"(
runs:
  server: {port: abc, hots: x}
  workerThreads: 0
  watchBuffer: 5
database:
  sqlte: {file: x}
logger: {level: 9}
extra: 1
)");
  REQUIRE(cfg.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(cfg.status().message()) ==
        "runs.server.port: expected an integer 0..65535, got 'abc'\n"
        "runs.server.hots: unknown key\n"
        "runs.workerThreads: expected an integer 1..1024, got '0'\n"
        "runs.watchBuffer: unknown key\n"
        "database.sqlte: unknown key\n"
        "logger.level: expected an integer 0..6, got '9'\n"
        "extra: unknown key");
}

TEST_CASE("runs.signingKey is a secret of at least 32 bytes", "[unit][config]") {
  CHECK(ParseConfig("")->signing_key.empty());  // absent: the key kept in the database
  CHECK(ParseConfig("runs: {signingKey: 0123456789abcdef0123456789abcdef}\n")->signing_key ==
        "0123456789abcdef0123456789abcdef");
  ::setenv("FLYTE_TEST_SIGNING_KEY", "an environment key of 32+ bytes...", 1);
  CHECK(ParseConfig("runs: {signingKeyEnv: FLYTE_TEST_SIGNING_KEY}\n")->signing_key ==
        "an environment key of 32+ bytes...");
  ::unsetenv("FLYTE_TEST_SIGNING_KEY");
  CHECK(std::string(ParseConfig("runs: {signingKeyEnv: FLYTE_TEST_SIGNING_KEY}\n").status().message()) ==
        "runs.signingKeyEnv: environment variable FLYTE_TEST_SIGNING_KEY is not set");
  CHECK(std::string(ParseConfig("runs: {signingKey: short}\n").status().message()) ==
        "runs.signingKey: must be at least 32 bytes (or absent: a key kept in the database)");
  CHECK(std::string(ParseConfig("runs: {signingKey: x, signingKeyPath: /y}\n").status().message())
            .find("give only one of signingKey, signingKeyEnv, signingKeyPath") != std::string::npos);
}

TEST_CASE("runs.secretsKey is a secret of 64 hex characters, held as its 32 bytes", "[unit][config]") {
  CHECK(ParseConfig("")->secrets_key.empty());  // absent: the key kept in the database
  const std::string hex = "00ff" + std::string(60, 'a');
  absl::StatusOr<Config> cfg = ParseConfig("runs: {secretsKey: \"" + hex + "\"}\n");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->secrets_key.size() == 32);
  CHECK(cfg->secrets_key.substr(0, 3) == std::string("\x00\xff\xaa", 3));
  ::setenv("FLYTE_TEST_SECRETS_KEY", hex.c_str(), 1);
  CHECK(ParseConfig("runs: {secretsKeyEnv: FLYTE_TEST_SECRETS_KEY}\n")->secrets_key == cfg->secrets_key);
  ::unsetenv("FLYTE_TEST_SECRETS_KEY");
  const std::string wrong = "runs.secretsKey: must be 64 hex characters (32 bytes), or absent: a key kept in the database";
  CHECK(std::string(ParseConfig("runs: {secretsKey: abc}\n").status().message()) == wrong);
  CHECK(std::string(ParseConfig("runs: {secretsKey: " + std::string(64, 'g') + "}\n").status().message()) == wrong);
}

TEST_CASE("runs.internalToken is a secret of at least 16 bytes, from the file, the environment or a file",
          "[unit][config]") {
  CHECK(ParseConfig("")->internal_token.empty());  // absent: the internal API answers this host only
  CHECK(ParseConfig("runs: {internalToken: 0123456789abcdef}\n")->internal_token == "0123456789abcdef");
  ::setenv("FLYTE_TEST_INTERNAL_TOKEN", "from-the-environment-0", 1);
  CHECK(ParseConfig("runs: {internalTokenEnv: FLYTE_TEST_INTERNAL_TOKEN}\n")->internal_token == "from-the-environment-0");
  ::unsetenv("FLYTE_TEST_INTERNAL_TOKEN");
  CHECK(std::string(ParseConfig("runs: {internalToken: short}\n").status().message()) ==
        "runs.internalToken: must be at least 16 bytes (or absent: internal APIs for this host only)");
  CHECK(std::string(ParseConfig("runs: {internalTokn: 0123456789abcdef}\n").status().message()).find("internalTokn") !=
        std::string::npos);
}

TEST_CASE("deploy/config files are valid", "[unit][config]") {
  const std::string dir = DeployConfigDir();
  SECTION("SQLite") {
    absl::StatusOr<Config> cfg = LoadConfig(dir + "runs-service.yaml");
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    CHECK(cfg->server.port == 8090);
    REQUIRE(cfg->database.sqlite);
    CHECK(cfg->database.sqlite->file == "./runs.db");
  }
  SECTION("PostgreSQL, password from FLYTE_DB_PASSWORD") {
    ::setenv("FLYTE_DB_PASSWORD", "s3cret", 1);
    absl::StatusOr<Config> cfg = LoadConfig(dir + "runs-service-postgres.yaml");
    ::unsetenv("FLYTE_DB_PASSWORD");
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    REQUIRE(cfg->database.postgres);
    CHECK_FALSE(cfg->database.sqlite);
    CHECK(cfg->database.postgres->password == "s3cret");
    CHECK(cfg->database.postgres->dbname == "flyte_runs");
    CHECK(cfg->database.conn_max_lifetime == 3600s);
    // Without the variable the config is refused, naming it.
    absl::StatusOr<Config> missing = LoadConfig(dir + "runs-service-postgres.yaml");
    CHECK(std::string(missing.status().message()) ==
          "database.postgres.passwordEnv: environment variable FLYTE_DB_PASSWORD is not set");
  }
  CHECK(LoadConfig(dir + "nonexistent.yaml").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("runs.logs: defaults, a kubernetes source, and strict keys", "[unit][config]") {
  absl::StatusOr<Config> def = ParseConfig("");
  REQUIRE(def.ok());
  CHECK(def->logs.source == flyte::runs::LogSourceKind::kFiles);
  CHECK(def->logs.poll_interval == 200ms);
  CHECK(def->logs.max_streams == 64);

  absl::StatusOr<Config> k = ParseConfig(
      "runs:\n  logs:\n    source: kubernetes\n    pollInterval: 50ms\n    maxStreams: 8\n"
      "    kubernetes: {namespace: tasks, kubeconfig: /k}\n");
  REQUIRE(k.ok());
  CHECK(k->logs.source == flyte::runs::LogSourceKind::kKubernetes);
  CHECK(k->logs.poll_interval == 50ms);
  CHECK(k->logs.max_streams == 8);
  CHECK(k->logs.kubernetes.ns == "tasks");
  CHECK(k->logs.kubernetes.kubeconfig == "/k");

  absl::StatusOr<Config> bad = ParseConfig(
      "runs:\n  logs:\n    source: s3\n    pollInterval: 1ms\n    follow: true\n    kubernetes: {namespace: \"\"}\n");
  REQUIRE_FALSE(bad.ok());
  std::string msg(bad.status().message());
  CHECK(msg.find("runs.logs.source") != std::string::npos);
  CHECK(msg.find("runs.logs.pollInterval") != std::string::npos);
  CHECK(msg.find("runs.logs.follow") != std::string::npos);
  CHECK(msg.find("runs.logs.kubernetes.namespace") != std::string::npos);
}

TEST_CASE("runs.triggers: the scheduler's switch, poll interval and lease; unknown keys and bad values refused",
          "[unit][config]") {
  absl::StatusOr<Config> defaults = ParseConfig("");
  REQUIRE(defaults.ok());
  CHECK(defaults->triggers.scheduler);
  CHECK(defaults->triggers.poll_interval == 1s);
  CHECK(defaults->triggers.lease_duration == 15s);
  absl::StatusOr<Config> set = ParseConfig("runs: {triggers: {scheduler: false, pollInterval: 200ms, leaseDuration: 5s}}\n");
  REQUIRE(set.ok());
  CHECK_FALSE(set->triggers.scheduler);
  CHECK(set->triggers.poll_interval == 200ms);
  CHECK(set->triggers.lease_duration == 5s);
  CHECK(std::string(ParseConfig("runs: {triggers: {pollInterval: 1ms, leaseDuration: 1s, catchUp: all}}\n")
                        .status()
                        .message()) ==
        "runs.triggers.catchUp: unknown key\nruns.triggers.pollInterval: must be at least 10ms");
  CHECK(std::string(ParseConfig("runs: {triggers: {pollInterval: 1s, leaseDuration: 1s}}\n").status().message()) ==
        "runs.triggers.leaseDuration: must be at least twice runs.triggers.pollInterval");
}
