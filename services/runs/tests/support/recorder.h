#pragma once
// Records the changes a repository hands its change listener, for tests that wait for them.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "repository/action_repository.h"

namespace flyte::runs::test {

// Must outlive the store it is attached to (a PostgreSQL store calls it from its own threads).
struct Recorder {
  void Attach(ActionRepository& repo) {
    repo.SetChangeListener([this](const ActionChange& c) {
      std::lock_guard<std::mutex> l(mu);
      seen.push_back(c);
    });
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return seen.size();
  }
  bool Has(const std::string& name, int64_t version) { return Count(name, version) > 0; }
  size_t Count(const std::string& name, int64_t version) {
    std::lock_guard<std::mutex> l(mu);
    return std::count_if(seen.begin(), seen.end(),
                         [&](const ActionChange& c) { return c.key.name == name && c.version == version; });
  }
  std::mutex mu;
  std::vector<ActionChange> seen;
};

}  // namespace flyte::runs::test
