#include "flags.h"

#include <algorithm>
#include <cstdlib>

#include "absl/status/status.h"

namespace flyte::loadgen {

absl::StatusOr<std::chrono::nanoseconds> ParseDuration(const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  size_t idx = 0;
  double v = 0;
  try {
    v = std::stod(text, &idx);
  } catch (...) {
    return absl::InvalidArgumentError("bad duration '" + text + "'");
  }
  const std::string unit = text.substr(idx);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "m") scale = 60e9;
  else return absl::InvalidArgumentError("bad duration unit in '" + text + "' (use us, ms, s, m)");
  if (v < 0) return absl::InvalidArgumentError("negative duration '" + text + "'");
  return std::chrono::nanoseconds(static_cast<int64_t>(v * scale));
}

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args, const std::vector<std::string>& booleans) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return absl::InvalidArgumentError("unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      f.values_[name.substr(0, eq)] = name.substr(eq + 1);
      continue;
    }
    if (std::find(booleans.begin(), booleans.end(), name) != booleans.end()) {
      f.values_[name] = "true";
      continue;
    }
    if (i + 1 >= args.size()) return absl::InvalidArgumentError("flag --" + name + " needs a value");
    f.values_[name] = args[++i];
  }
  return f;
}

std::string Flags::Str(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

absl::StatusOr<double> Flags::Num(const std::string& name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0') {
    return absl::InvalidArgumentError("--" + name + " wants a number, got '" + it->second + "'");
  }
  return v;
}

absl::StatusOr<std::chrono::nanoseconds> Flags::Dur(const std::string& name, const std::string& def) const {
  auto d = ParseDuration(Str(name, def));
  if (!d.ok()) return absl::InvalidArgumentError("--" + name + ": " + std::string(d.status().message()));
  return d;
}

bool Flags::Bool(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->second != "false" && it->second != "0";
}

absl::Status Flags::CheckKnown(const std::vector<std::string>& known) const {
  std::string bad;
  for (const auto& [k, v] : values_) {
    if (std::find(known.begin(), known.end(), k) == known.end()) bad += (bad.empty() ? "--" : ", --") + k;
  }
  if (!bad.empty()) return absl::InvalidArgumentError("unknown flag(s): " + bad);
  return absl::OkStatus();
}

}  // namespace flyte::loadgen
