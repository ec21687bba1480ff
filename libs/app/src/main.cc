#include "flyte/app/main.h"

#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "flyte/app/flags.h"
#include "flyte/app/log.h"

namespace flyte::app {

int RunMain(int argc, const char* const* argv, const Program& program) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s: %s\n%s", program.name.c_str(), std::string(flags.status().message()).c_str(),
                 Usage(program.name).c_str());
    return kExitBadConfig;
  }
  if (flags->help) {
    std::fputs(Usage(program.name).c_str(), stdout);
    return kExitOk;
  }
  if (flags->version) {
    std::printf("%s %s\n", program.name.c_str(), program.version.c_str());
    return kExitOk;
  }
  // Before any thread exists, so that every thread inherits the mask.
  BlockShutdownSignals();
  // Debian's abseil is built without NDEBUG, which leaves absl::Mutex deadlock detection on: a lock-order graph
  // updated on every lock of every absl::Mutex (gRPC's included), a few percent of the CPU of each RPC.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  const std::string source = flags->config_file.empty() ? "built-in defaults" : flags->config_file;
  absl::Status loaded = program.load_config(flags->config_file);
  if (!loaded.ok()) {
    std::string text(loaded.message());
    if (loaded.code() == absl::StatusCode::kInvalidArgument) {
      std::fprintf(stderr, "%s: invalid config (%s):\n", program.name.c_str(), source.c_str());
      for (absl::string_view line : absl::StrSplit(text, '\n')) {
        std::fprintf(stderr, "  - %.*s\n", static_cast<int>(line.size()), line.data());
      }
    } else {
      std::fprintf(stderr, "%s: %s\n", program.name.c_str(), text.c_str());
    }
    return kExitBadConfig;
  }
  if (flags->validate_only) {
    std::printf("config OK\n");
    return kExitOk;
  }

  config::LoggerConfig logger = program.logger();
  ConfigureLogging(logger.level, logger.show_source);
  FLYTE_LOG(kInfo, "{} {} starting (config: {})", program.name, program.version, source);

  ShutdownSequence shutdown;
  absl::Status started = program.start(shutdown);
  if (!started.ok()) {
    FLYTE_LOG(kError, "{} failed to start: {}", program.name, started.ToString());
    shutdown.Run();
    return kExitStartFailed;
  }
  int sig = WaitForShutdown();
  FLYTE_LOG(kInfo, "{}, shutting down", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "shutdown requested");
  shutdown.Run();
  FLYTE_LOG(kInfo, "{} stopped", program.name);
  return kExitOk;
}

}  // namespace flyte::app
