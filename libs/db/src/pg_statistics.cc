#include "pg_statistics.h"

#include <algorithm>
#include <string>
#include <vector>

namespace flyte::db::internal {

PlannerStatistics::PlannerStatistics(Database& db, std::chrono::milliseconds interval, int64_t min_changes)
    : db_(db), interval_(interval), min_changes_(min_changes), thread_([this] { Loop(); }) {}

PlannerStatistics::~PlannerStatistics() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

absl::StatusOr<int> PlannerStatistics::RefreshOnce() {
  std::vector<std::string> stale;
  absl::Status s = db_.Read("planner_statistics", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables "
        "WHERE n_mod_since_analyze >= ? AND (n_mod_since_analyze >= n_live_tup OR "
        "(last_analyze IS NULL AND last_autoanalyze IS NULL))",
        {min_changes_});
    if (!rows.ok()) return rows.status();
    stale.clear();
    for (const Row& r : *rows) stale.push_back(r.Str(0));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  int analyzed = 0;
  for (const std::string& table : stale) {
    // Names come from the catalog, quoted by quote_ident.
    s = Analyze(table);
    if (!s.ok()) return s;
    ++analyzed;
  }
  return analyzed;
}

absl::Status PlannerStatistics::Analyze(const std::string& quoted_table) {
  return db_.Write("planner_statistics", [&](Tx& tx) { return tx.Exec("ANALYZE " + quoted_table).status(); });
}

void PlannerStatistics::Inserted(std::string_view table, int64_t rows) {
  if (rows <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = growth_.find(table);
  if (it == growth_.end()) it = growth_.emplace(std::string(table), Growth{}).first;
  Growth& g = it->second;
  const bool was_due = g.since_analyze >= std::max(min_changes_, g.at_analyze);
  g.since_analyze += rows;
  if (!was_due && g.since_analyze >= std::max(min_changes_, g.at_analyze)) {
    due_.push_back(it->first);
    cv_.notify_all();
  }
}

void PlannerStatistics::AnalyzeIfDoubled(const std::string& table) {
  int64_t since = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    since = growth_[table].since_analyze;
  }
  // What the server knew at its last ANALYZE (or VACUUM): -1 never. A table that was already large when this
  // process started waits until our inserts double it.
  double reltuples = -1;
  absl::Status s = db_.Read("planner_statistics", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows =
        tx.Query("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)", {"\"" + table + "\""});
    if (!rows.ok()) return rows.status();
    if (!rows->empty() && !rows->front().IsNull(0)) reltuples = static_cast<double>(rows->front().Int(0));
    return absl::OkStatus();
  });
  if (!s.ok()) return;
  if (reltuples >= 0 && static_cast<double>(since) < std::max<double>(static_cast<double>(min_changes_), reltuples)) {
    std::lock_guard<std::mutex> lock(mu_);
    growth_[table].at_analyze = static_cast<int64_t>(reltuples);
    return;
  }
  if (!Analyze("\"" + table + "\"").ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Growth& g = growth_[table];
  g.at_analyze = static_cast<int64_t>(std::max(0.0, reltuples)) + since;
  g.since_analyze -= since;
}

void PlannerStatistics::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      if (cv_.wait_for(lock, interval_, [this] { return stopping_ || !due_.empty(); }) && stopping_) break;
    }
    if (due_.empty()) {
      lock.unlock();
      (void)RefreshOnce();  // database trouble is logged where it happened; the next round tries again
      lock.lock();
      continue;
    }
    std::vector<std::string> due;
    due.swap(due_);
    lock.unlock();
    for (const std::string& table : due) AnalyzeIfDoubled(table);
    lock.lock();
  }
}

}  // namespace flyte::db::internal
