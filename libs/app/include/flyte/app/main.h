#pragma once
// The main() every flyte binary shares:
//   flags -> (help/version) -> load config (every problem printed, exit 2) -> (--validate-config: "config OK",
//   exit 0, nothing opened) -> logging -> start -> wait for SIGTERM/SIGINT -> ordered shutdown -> exit 0.
// A start failure (database unreachable, port taken) runs the steps added so far and exits 1.
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/app/shutdown.h"
#include "flyte/config/sections.h"

namespace flyte::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitStartFailed = 1;
inline constexpr int kExitBadConfig = 2;  // also bad flags

struct Program {
  std::string name;     // "runs-service"
  std::string version;
  // Reads `file` ("" = built-in defaults) into the program's config. kInvalidArgument with one problem per line
  // for a bad config; kNotFound for a missing file. Must not open databases or sockets.
  std::function<absl::Status(const std::string& file)> load_config;
  // Logging settings of the loaded config.
  std::function<config::LoggerConfig()> logger;
  // Builds and starts everything, adding the shutdown steps in the order they must run.
  std::function<absl::Status(ShutdownSequence& shutdown)> start;
};

int RunMain(int argc, const char* const* argv, const Program& program);

// RunMain for a service that has `static absl::StatusOr<std::unique_ptr<Service>> Create(const Config&)`,
// `absl::Status Start()` and `void Shutdown()`, and a Config with a `logger` member. Not reentrant: one per process.
template <class Config, class Service>
int RunServiceMain(int argc, const char* const* argv, std::string name, std::string version,
                   absl::StatusOr<Config> (*load_config)(const std::string& file)) {
  static Config config;
  static std::unique_ptr<Service> service;
  Program program;
  program.name = name;
  program.version = std::move(version);
  program.load_config = [load_config](const std::string& file) -> absl::Status {
    absl::StatusOr<Config> loaded = load_config(file);
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
    return absl::OkStatus();
  };
  program.logger = [] { return config.logger; };
  program.start = [name](ShutdownSequence& shutdown) -> absl::Status {
    absl::StatusOr<std::unique_ptr<Service>> created = Service::Create(config);
    if (!created.ok()) return created.status();
    service = std::move(*created);
    shutdown.Add(name, [] {
      service->Shutdown();
      service.reset();
    });
    return service->Start();
  };
  return RunMain(argc, argv, program);
}

}  // namespace flyte::app
