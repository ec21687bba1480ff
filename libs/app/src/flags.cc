#include "flyte/app/flags.h"

#include <string_view>

#include <fmt/format.h>

namespace flyte::app {

namespace {
// absl::StrCat on Debian's abseil does not take std::string_view; fmt does.
template <class... A>
std::string Cat(const A&... a) {
  std::string s;
  ((s += fmt::format("{}", a)), ...);
  return s;
}
}  // namespace

absl::StatusOr<Flags> ParseFlags(int argc, const char* const* argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--version") {
      flags.version = true;
    } else if (arg == "--validate-config") {
      flags.validate_only = true;
    } else if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) return absl::InvalidArgumentError(Cat(arg, " needs a file name"));
      flags.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      flags.config_file = std::string(arg.substr(9));
      if (flags.config_file.empty()) return absl::InvalidArgumentError("--config= needs a file name");
    } else {
      return absl::InvalidArgumentError(Cat("unknown argument '", arg, "'"));
    }
  }
  return flags;
}

std::string Usage(const std::string& program) {
  return Cat("usage: ", program, " [--config FILE] [--validate-config] [--help] [--version]\n",
                      "  --config FILE        YAML config (without it the built-in defaults are used)\n",
                      "  --validate-config    check the config, print \"config OK\" or every problem; exit 0 or 2\n",
                      "  --help               this text\n",
                      "  --version            print the version\n");
}

}  // namespace flyte::app
