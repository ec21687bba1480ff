#pragma once
// How replicas sharing one PostgreSQL database hear each other's action changes, without a NOTIFY inside the
// writing transaction (PostgreSQL serialises the commits of NOTIFYing transactions on one cluster-wide lock held
// across the WAL flush, which capped CreateRun at ~1/fsync latency).
//
// Writer side: a transaction that changes actions appends one row to action_change_log (migration 0013) with its
// changes; after it commits, Announce() asks the feed's thread for one NOTIFY, sent in a transaction of its own and
// coalesced with every other commit that happens meanwhile (one NOTIFY per group of commits, not per commit).
// Reader side (Follow): on a NOTIFY from another replica, and every catch_up_interval regardless, the thread reads
// the log rows at or above the xmin of the snapshot its previous read used (a transaction still in progress then,
// which may commit later than younger ones, is read when it commits), skips its own and those already delivered, and
// hands the rest to `deliver`. So a change committed by a replica that died before its NOTIFY still reaches every
// other replica within catch_up_interval. Rows older than `retention` are deleted.
//
// Thread-safe. Errors are logged and retried on the next wake-up (the log is the source of truth, not the NOTIFY).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/db/database.h"
#include "repository/action_repository.h"

namespace flyte::runs {

class PgChangeFeed {
 public:
  struct Options {
    // Reads the log at least this often, NOTIFY or not: the bound on how late a change whose writer died between
    // its commit and its NOTIFY reaches the other replicas.
    std::chrono::milliseconds catch_up_interval{1000};
    // Log rows are deleted this long after a read of this replica saw past them.
    std::chrono::seconds retention{600};
    // Tests only: false plays a writer that dies right after each commit (no NOTIFY is ever sent).
    bool announce = true;
  };

  // `origin` names this process's rows (its instance id); `channel` is the NOTIFY channel. Starts the thread.
  PgChangeFeed(db::Database& db, std::string origin, std::string channel, Options options);
  ~PgChangeFeed();  // Stop()s.
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // Starts reading the log from now on, handing other replicas' changes to `deliver` (on the feed's thread).
  // kUnavailable if the first read fails.
  absl::Status Follow(std::function<void(const ActionChange&)> deliver);
  // A transaction of this process that appended to the log committed: NOTIFY soon (coalesced).
  void Announce();
  // Another replica announced changes (or the LISTEN connection came back): read the log soon.
  void Heard();
  // Stops and joins the thread. Idempotent.
  void Stop();

 private:
  void Loop();
  void SendNotify();
  absl::Status ReadLog();  // feed thread only (and Follow before the thread reads)
  void Prune();

  db::Database& db_;
  const std::string origin_;
  const std::string channel_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool announce_ = false;
  bool read_ = false;
  std::function<void(const ActionChange&)> deliver_;  // set once by Follow

  // Feed thread only (after Follow).
  uint64_t horizon_ = 0;                   // xmin of the snapshot of the last read
  std::unordered_set<uint64_t> delivered_;  // xids at or above horizon_ already handed on
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> horizons_;  // for Prune
  std::chrono::steady_clock::time_point next_prune_;

  std::thread thread_;
};

}  // namespace flyte::runs
