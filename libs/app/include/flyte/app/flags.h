#pragma once
// The flags every flyte binary takes:
//   --config FILE (or --config=FILE)   YAML config; without it the built-in defaults are used
//   --validate-config                  check the config (every problem listed), touch nothing, exit 0 or 2
//   --help, --version
#include <string>

#include "absl/status/statusor.h"

namespace flyte::app {

struct Flags {
  std::string config_file;  // "" = defaults
  bool validate_only = false;
  bool help = false;
  bool version = false;
};

// kInvalidArgument naming the offending argument.
absl::StatusOr<Flags> ParseFlags(int argc, const char* const* argv);
std::string Usage(const std::string& program);

}  // namespace flyte::app
