#pragma once
// Tiny "--name value" / "--name=value" parser for the load generator's command line.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace flyte::loadgen {

// "10s", "500ms", "2m", "1.5s", "250us"; a bare number is seconds.
absl::StatusOr<std::chrono::nanoseconds> ParseDuration(const std::string& text);

class Flags {
 public:
  // argv[start..]: every "--x" takes a value unless it is in `booleans`. Unknown names are kept; call
  // CheckKnown with the full list a mode accepts.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args, const std::vector<std::string>& booleans);

  std::string Str(const std::string& name, const std::string& def) const;
  absl::StatusOr<double> Num(const std::string& name, double def) const;
  absl::StatusOr<std::chrono::nanoseconds> Dur(const std::string& name, const std::string& def) const;
  bool Bool(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // kInvalidArgument naming every flag not in `known`.
  absl::Status CheckKnown(const std::vector<std::string>& known) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace flyte::loadgen
