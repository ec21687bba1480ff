#pragma once
// Naming rules for runs: a run name is a DNS-1035 label of at most 30 characters, so it can name Kubernetes
// objects and storage paths; a generated name is "r" followed by 19 random characters from [a-z0-9].
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace flyte::runs {

inline constexpr size_t kMaxRunNameLength = 30;

// OK, or kInvalidArgument with a message that starts with the name (the caller prefixes the field path).
absl::Status ValidateRunName(std::string_view name);

// Thread-safe; uses a per-thread random engine seeded from std::random_device.
std::string GenerateRunName();

}  // namespace flyte::runs
