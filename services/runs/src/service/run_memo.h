#pragma once
// What is fixed for a run's whole life (whether it recovers another run and which, the run spec its root was
// created with), remembered per run once read, so the children of a run do not read it again each. Runs are never
// deleted and these facts never change, so a remembered value is never stale. Bounded: past `capacity` runs the
// memory simply starts over. Thread-safe.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/action.h"

namespace flyte::runs {

template <typename T>
class RunMemo {
 public:
  explicit RunMemo(size_t capacity = 10000) : capacity_(capacity) {}

  std::optional<T> Find(const RunKey& run) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = known_.find(Id(run));
    if (it == known_.end()) return std::nullopt;
    return it->second;
  }

  void Remember(const RunKey& run, T value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.size() >= capacity_) known_.clear();
    known_[Id(run)] = std::move(value);
  }

 private:
  static std::string Id(const RunKey& run) {
    return run.org + "/" + run.project + "/" + run.domain + "/" + run.name;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, T> known_;
};

}  // namespace flyte::runs
