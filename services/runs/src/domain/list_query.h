#pragma once
// What a list call asks the repository for, already validated by the service layer (fields on the allowlist,
// limit within bounds). Repositories translate it to SQL; they never see proto filter messages.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flyte::runs {

enum class Field {
  kName,          // action name (runs: run name)
  kRunName,
  kPhase,         // values are phase numbers as decimal strings
  kParent,
  kActionType,
  kCreatedAt,     // values are RFC 3339 timestamps, converted to micros by the service
  kUpdatedAt,
  kEndedAt,
  kTaskName,
  kTaskVersion,
  kShortName,
  kEnvironment,
  kProject,
  kDomain,
  kCreatedBy,     // runs: the subject that created the run ("" when it was created without an identity)
  kLabel,         // runs: the value of the label Filter::key
};

enum class FilterOp {
  kEqual, kNotEqual, kGreaterThan, kGreaterOrEqual, kLessThan, kLessOrEqual,
  kContains, kValueIn, kValueNotIn, kEndsWith, kNotEndsWith, kContainsCaseInsensitive, kExists, kNotExists,
};

struct Filter {
  Field field;
  FilterOp op;
  std::vector<std::string> values;  // time fields: decimal unix micros; phase: decimal numbers
  std::string key;                  // kLabel: which label
};

struct SortKey {
  Field field;
  bool ascending = false;
};

struct ListQuery {
  // Scope. org always set; project/domain optional (empty = any).
  std::string org, project, domain;
  std::optional<std::string> run_name;  // actions of one run
  bool roots_only = false;              // runs = root actions
  std::optional<std::string> parent;    // children of one action
  std::vector<Filter> filters;
  std::vector<SortKey> sort;            // empty = created_at DESC, then name
  uint32_t limit = 50;
  uint64_t offset = 0;                  // page token = decimal offset
};

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<uint64_t> next_offset;  // set when more rows may follow
};

}  // namespace flyte::runs
