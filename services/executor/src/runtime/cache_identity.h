#pragma once
// Which task output cache entry an action reads and writes, from its task template and inputs. Shared by every
// runtime. A task is cached when its template's metadata is `discoverable` (the SDK's cache="auto" and
// flyte.Cache(behavior="auto"|"override")); its entry is keyed by:
//   - TaskAction.cache_key when the SDK sent one (child actions: the SDK hashes inputs, task name, interface,
//     discovery_version and ignored inputs itself), else
//   - hex SHA-256 of the task name, discovery_version, the typed interface and the inputs without the
//     cache_ignore_input_vars (a run's root action, for which the SDK computes no key).
// Pure functions (ResolveCacheIdentity reads the inputs file); thread-safe.
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "flyteidl2/core/tasks.pb.h"
#include "runtime/action.h"

namespace flyte::executor {

struct CacheIdentity {
  std::string scope_org, scope_project, scope_domain;  // project/domain empty: org-wide (the default scope)
  std::string key;
  std::string version;      // discovery_version, for messages
  bool serialize = false;   // cache_serializable: identical concurrent actions wait for one to finish
  bool overwrite = false;   // run even on a hit and replace the entry
};

// nullopt when the task is not cached. kInvalidArgument naming what is wrong when it is but no key can be made
// (unreadable inputs). `default_org` stands in for an empty org.
absl::StatusOr<std::optional<CacheIdentity>> ResolveCacheIdentity(const ActionToRun& action,
                                                                  const flyteidl2::core::TaskTemplate& tmpl,
                                                                  const std::string& default_org);

// The local path of the action's inputs.pb (input_uri is the file or its prefix); "" when it has none.
std::string InputsPath(const ActionToRun& action);

}  // namespace flyte::executor
