#include "pg_statistics.h"

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
    s = db_.Write("planner_statistics", [&](Tx& tx) { return tx.Exec("ANALYZE " + table).status(); });
    if (!s.ok()) return s;
    ++analyzed;
  }
  return analyzed;
}

void PlannerStatistics::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    (void)RefreshOnce();  // database trouble is logged where it happened; the next round tries again
    lock.lock();
  }
}

}  // namespace flyte::db::internal
