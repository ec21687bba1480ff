#include "domain/naming.h"

#include "domain/action.h"

#include <random>
#include <string>

namespace flyte::runs {

absl::Status ValidateRunName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("must not be empty");
  if (name.size() > kMaxRunNameLength) {
    return absl::InvalidArgumentError("\"" + std::string(name) + "\" is longer than 30 characters");
  }
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok = lower(name.front()) && (lower(name.back()) || digit(name.back()));
  for (char c : name) ok = ok && (lower(c) || digit(c) || c == '-');
  if (!ok) {
    return absl::InvalidArgumentError("\"" + std::string(name) +
                                      "\" must be a DNS-1035 label ([a-z]([-a-z0-9]*[a-z0-9])?)");
  }
  return absl::OkStatus();
}

std::string GenerateRunName() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string name = "r";
  for (int i = 0; i < 19; ++i) name.push_back(kAlphabet[pick(engine)]);
  return name;
}

absl::Status CheckChildNames(const Action& child) {
  if (!child.parent || child.parent->empty()) return absl::InvalidArgumentError("parent_action_name is required");
  if (child.key.name == kRootActionName) {
    return absl::InvalidArgumentError("action_id.name must not be " + std::string(kRootActionName));
  }
  if (*child.parent == child.key.name) {
    return absl::InvalidArgumentError("parent_action_name must differ from action_id.name");
  }
  return absl::OkStatus();
}

}  // namespace flyte::runs
