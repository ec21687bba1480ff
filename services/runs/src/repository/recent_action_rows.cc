#include "repository/recent_action_rows.h"

#include "domain/phase.h"

namespace flyte::runs {

std::optional<RecentActionRows::Entry> RecentActionRows::Find(const ActionKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void RecentActionRows::Remember(const EventPlan& plan) {
  if (capacity_ == 0) return;
  // Each action's last change carries its final row, already shared with the watchers: kept, not copied.
  std::map<ActionKey, std::shared_ptr<const Action>, ActionKeyLess> final_rows;
  for (const ActionChange& c : plan.changes) {
    if (c.action) final_rows[c.key] = c.action;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Action& a : plan.actions) {
    auto it = rows_.find(a.key);
    if (IsTerminal(a.phase)) {
      if (it != rows_.end()) rows_.erase(it);
      continue;
    }
    if (it != rows_.end() && it->second.action->version >= a.version) continue;
    auto row = final_rows.find(a.key);
    Entry entry{row != final_rows.end() ? row->second : std::make_shared<const Action>(a), {}};
    for (const auto& [id, attempt] : plan.attempts) {
      if (id.action == a.key) entry.attempts.emplace(id, attempt);
    }
    if (it != rows_.end()) {
      it->second = std::move(entry);
      continue;
    }
    if (rows_.size() >= capacity_) rows_.erase(rows_.begin());
    rows_.emplace(a.key, std::move(entry));
  }
}

void RecentActionRows::Forget(const ActionKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  rows_.erase(key);
}

size_t RecentActionRows::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_.size();
}

}  // namespace flyte::runs
