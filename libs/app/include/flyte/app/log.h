#pragma once
// A tiny leveled logger writing one line per message to stderr:
//   2026-11-23T06:42:28.123Z INFO  listening on 0.0.0.0:8090          (show_source adds " [setup.cc:42]")
// Levels follow the seed's `logger.level` numbering; messages above the configured level are dropped before
// formatting. Thread-safe: lines from different threads never interleave.
//
//   FLYTE_LOG(kInfo, "listening on {}:{}", host, port);
#include <functional>
#include <string_view>

#include <fmt/format.h>

namespace flyte::app {

enum class LogLevel : int { kPanic = 0, kFatal = 1, kError = 2, kWarn = 3, kInfo = 4, kDebug = 5, kTrace = 6 };

// Defaults: level 4 (info), no source locations.
void ConfigureLogging(int level, bool show_source);
bool LogEnabled(LogLevel level);
void LogMessage(LogLevel level, const char* file, int line, std::string_view message);
// Replaces stderr as the destination (tests); nullptr restores stderr. `sink` gets the full line without "\n".
void SetLogSinkForTesting(std::function<void(std::string_view)> sink);

}  // namespace flyte::app

#define FLYTE_LOG(level, ...)                                                                          \
  do {                                                                                                 \
    if (::flyte::app::LogEnabled(::flyte::app::LogLevel::level)) {                                     \
      ::flyte::app::LogMessage(::flyte::app::LogLevel::level, __FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
    }                                                                                                  \
  } while (0)
