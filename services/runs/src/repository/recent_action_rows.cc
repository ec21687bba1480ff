#include "repository/recent_action_rows.h"

#include "domain/phase.h"
#include "repository/sql_common.h"  // AsStored

namespace flyte::runs {
namespace {

// `a` as a read of its row would return it.
std::shared_ptr<const Action> AsStoredRow(const Action& a) {
  auto row = std::make_shared<Action>(a);
  row->created_at = AsStored(row->created_at);
  row->updated_at = AsStored(row->updated_at);
  if (row->started_at) row->started_at = AsStored(*row->started_at);
  if (row->ended_at) row->ended_at = AsStored(*row->ended_at);
  return row;
}

}  // namespace

std::optional<RecentActionRows::Entry> RecentActionRows::Find(const ActionKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void RecentActionRows::Remember(const EventPlan& plan) {
  if (capacity_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Action& a : plan.actions) {
    auto it = rows_.find(a.key);
    if (IsTerminal(a.phase)) {
      if (it != rows_.end()) rows_.erase(it);
      continue;
    }
    if (it != rows_.end() && it->second.action->version >= a.version) continue;
    Entry entry{AsStoredRow(a), {}};
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
