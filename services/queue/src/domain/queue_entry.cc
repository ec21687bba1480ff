#include "domain/queue_entry.h"

#include <string>

namespace flyte::queue {
namespace {

constexpr size_t kMaxKeyPart = 256;

absl::Status Required(std::string_view value, std::string_view field) {
  if (value.empty()) return absl::InvalidArgumentError(std::string(field) + " is required");
  if (value.size() > kMaxKeyPart) {
    return absl::InvalidArgumentError(std::string(field) + " is longer than " + std::to_string(kMaxKeyPart) +
                                      " characters");
  }
  return absl::OkStatus();
}

}  // namespace

std::string ActionKey::ToString() const {
  return run.org + "/" + run.project + "/" + run.domain + "/" + run.name + "/" + name;
}

std::string_view EntryStateName(EntryState s) {
  switch (s) {
    case EntryState::kReady:
      return "READY";
    case EntryState::kLeased:
      return "LEASED";
    case EntryState::kDone:
      return "DONE";
  }
  return "UNKNOWN";
}

// The org may be empty: the SDK sends none when it talks to a single-tenant endpoint, and runs-service accepts that.
absl::Status ValidateRunKey(const RunKey& key, std::string_view field) {
  const std::string f(field);
  for (auto [value, part] : {std::pair<const std::string&, const char*>{key.project, ".project"},
                             {key.domain, ".domain"},
                             {key.name, ".name"}}) {
    if (absl::Status s = Required(value, f + part); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateActionKey(const ActionKey& key, std::string_view field) {
  const std::string f(field);
  if (absl::Status s = ValidateRunKey(key.run, f + ".run"); !s.ok()) return s;
  return Required(key.name, f + ".name");
}

absl::Status ValidateNewEntry(const NewEntry& entry) {
  if (absl::Status s = ValidateActionKey(entry.key, "action_id"); !s.ok()) return s;
  if (entry.parent) {
    if (entry.parent->empty()) return absl::InvalidArgumentError("parent_action_name must not be empty when set");
    if (*entry.parent == entry.key.name) {
      return absl::InvalidArgumentError("parent_action_name must differ from action_id.name");
    }
  }
  if (entry.spec == SpecKind::kNone) {
    return absl::InvalidArgumentError("one of task, trace, condition is required");
  }
  return absl::OkStatus();
}

absl::Status ValidateExecutorId(std::string_view executor_id) {
  return Required(executor_id, "executor_id");
}

}  // namespace flyte::queue
