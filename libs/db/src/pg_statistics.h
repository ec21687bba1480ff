#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "flyte/db/database.h"

namespace flyte::db::internal {

// Keeps PostgreSQL's planner statistics from lagging far behind a young, fast-growing table. Autovacuum analyzes a
// table only after 50 rows + 10% changed and at most once a minute; until then a table created empty has no
// statistics, the planner costs a narrow secondary index (say by run name) below the primary key for a lookup by
// the full key, and the prepared statement keeps that plan: measured, every action lookup of a 1,000-child
// fan-out scanned all its siblings (postgres CPU 9.8 ms per action). This thread ANALYZEs any table of the
// database that was never analyzed or changed by as many rows as it holds since (and by at least `min_changes`);
// ANALYZE also invalidates the cached plans. Large tables are left to autovacuum, which gets there first.
// The server's change counters lag by a second or more under load (a busy backend reports them at most once a
// second), long enough for a fan-out to grow a table tenfold on stale statistics; so the connections also count
// the rows they insert (Inserted) and a table that doubled since its last ANALYZE is analyzed at once.
class PlannerStatistics {
 public:
  PlannerStatistics(Database& db, std::chrono::milliseconds interval, int64_t min_changes = 200);
  ~PlannerStatistics();
  PlannerStatistics(const PlannerStatistics&) = delete;
  PlannerStatistics& operator=(const PlannerStatistics&) = delete;

  // One check now; returns how many tables it analyzed.
  absl::StatusOr<int> RefreshOnce();

  // `rows` were inserted into `table` (an unquoted name as written after INSERT INTO). Cheap; thread-safe.
  void Inserted(std::string_view table, int64_t rows);

 private:
  struct Growth {
    int64_t since_analyze = 0;  // rows inserted since the last ANALYZE this process ran or asked for
    int64_t at_analyze = 0;     // rows counted when it ran
  };
  void Loop();
  absl::Status Analyze(const std::string& quoted_table);
  void AnalyzeIfDoubled(const std::string& table);

  Database& db_;
  const std::chrono::milliseconds interval_;
  const int64_t min_changes_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, Growth, std::less<>> growth_;
  std::vector<std::string> due_;  // tables whose inserts doubled them, for the thread to analyze now
  std::thread thread_;
};

}  // namespace flyte::db::internal
