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

// Names of a child action a task enqueues: OK, or kInvalidArgument (`parent_action_name is required`, `action_id.name
// must not be a0`, `parent_action_name must differ from action_id.name`).
struct Action;
absl::Status CheckChildNames(const Action& child);

// The org an identifier without one belongs to. The SDK sends no org to a single-tenant endpoint, while inside a
// task it must use a non-empty one (_U_ORG_NAME, which the executor sets to this same "local"): both must name the
// same runs, so every identifier entering the service goes through OrgOrDefault.
inline constexpr char kDefaultOrg[] = "local";
inline std::string OrgOrDefault(std::string_view org) { return org.empty() ? kDefaultOrg : std::string(org); }

}  // namespace flyte::runs
