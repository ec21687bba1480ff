#include "repository/postgres/pg_change_feed.h"

#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "repository/sql_store.h"

namespace flyte::runs {
namespace {

constexpr std::chrono::seconds kPruneEvery{60};

// The xmin of the statement's snapshot: every transaction with a smaller id had ended when the snapshot was taken,
// so its rows (if it committed) are visible to it; those at or above may still commit later.
constexpr char kHorizon[] = "pg_snapshot_xmin(pg_current_snapshot())::text";

absl::StatusOr<uint64_t> ParseXid(const std::string& s) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) return absl::InternalError("malformed xid8 '" + s + "'");
  return v;
}

}  // namespace

PgChangeFeed::PgChangeFeed(db::Database& db, std::string origin, std::string channel, Options options)
    : db_(db), origin_(std::move(origin)), channel_(std::move(channel)), options_(options) {
  next_prune_ = std::chrono::steady_clock::now() + kPruneEvery;
  thread_ = std::thread([this] { Loop(); });
}

PgChangeFeed::~PgChangeFeed() { Stop(); }

void PgChangeFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgChangeFeed::Announce() {
  if (!options_.announce) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (announce_) return;  // one NOTIFY already pending covers this commit too
    announce_ = true;
  }
  cv_.notify_all();
}

void PgChangeFeed::Heard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    read_ = true;
  }
  cv_.notify_all();
}

absl::Status PgChangeFeed::Follow(std::function<void(const ActionChange&)> deliver) {
  uint64_t horizon = 0;
  absl::Status s = db_.Read("ChangeLogHorizon", [&](db::Tx& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows = tx.Query(std::string("SELECT ") + kHorizon);
    if (!rows.ok()) return rows.status();
    absl::StatusOr<uint64_t> h = ParseXid(rows->front().Str(0));
    if (!h.ok()) return h.status();
    horizon = *h;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    horizon_ = horizon;
    deliver_ = std::move(deliver);
  }
  return absl::OkStatus();
}

void PgChangeFeed::Loop() {
  auto next_read = std::chrono::steady_clock::now() + options_.catch_up_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_until(lock, next_read, [&] { return stop_ || announce_ || (read_ && deliver_); });
    if (stop_) break;
    if (announce_) {
      // Cleared before sending: a commit after this point asks for another NOTIFY, which it gets.
      announce_ = false;
      lock.unlock();
      SendNotify();
      lock.lock();
    }
    const auto now = std::chrono::steady_clock::now();
    if (deliver_ && (read_ || now >= next_read)) {
      read_ = false;
      lock.unlock();
      if (absl::Status s = ReadLog(); !s.ok()) std::cerr << "reading the action change log failed: " << s << "\n";
      if (now >= next_prune_) Prune();
      lock.lock();
      next_read = std::chrono::steady_clock::now() + options_.catch_up_interval;
    } else if (now >= next_read) {
      next_read = now + options_.catch_up_interval;
    }
  }
}

void PgChangeFeed::SendNotify() {
  // Its own (tiny) transaction: the NOTIFY lock is held across this commit's WAL flush only, and every commit of
  // this process since the last NOTIFY is covered by this one. A failure is not retried: the readers' periodic
  // read of the log brings the changes anyway.
  absl::Status s = db_.WriteStatement("AnnounceChanges", [&](db::Tx& tx) -> absl::Status {
    return tx.Query("SELECT pg_notify(?, '')", {channel_}).status();
  });
  if (!s.ok()) std::cerr << "NOTIFY of committed action changes failed: " << s << "\n";
}

absl::Status PgChangeFeed::ReadLog() {
  // One statement, one snapshot: the rows and the new horizon agree. This process's own rows were delivered when
  // they committed.
  static const std::string sql = std::string("SELECT ") + kHorizon +
                                 ", NULL::text, NULL::text, NULL::text UNION ALL "
                                 "SELECT NULL::text, l.xid::text, l.origin, p FROM action_change_log l "
                                 "CROSS JOIN LATERAL unnest(l.payloads) AS p WHERE l.xid >= ?::xid8 AND l.origin <> ?";
  std::vector<ActionChange> changes;
  std::vector<uint64_t> xids;
  uint64_t horizon = horizon_;
  absl::Status s = db_.Read("ReadChangeLog", [&](db::Tx& tx) -> absl::Status {
    changes.clear();
    xids.clear();
    absl::StatusOr<db::Rows> rows = tx.Query(sql, {std::to_string(horizon_), origin_});
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) {
      if (!r.IsNull(0)) {
        absl::StatusOr<uint64_t> h = ParseXid(r.Str(0));
        if (!h.ok()) return h.status();
        horizon = *h;
        continue;
      }
      absl::StatusOr<uint64_t> xid = ParseXid(r.Str(1));
      if (!xid.ok()) return xid.status();
      if (delivered_.count(*xid)) continue;  // read before, while its xid was still at or above the horizon
      absl::StatusOr<ActionChange> change = DecodeActionChange(r.Str(3));
      if (!change.ok()) {
        std::cerr << "ignoring malformed action change log entry\n";
        continue;
      }
      changes.push_back(*std::move(change));
      xids.push_back(*xid);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const ActionChange& c : changes) deliver_(c);
  delivered_.insert(xids.begin(), xids.end());
  // Entries below the new horizon are never read again.
  for (auto it = delivered_.begin(); it != delivered_.end();) {
    it = *it < horizon ? delivered_.erase(it) : std::next(it);
  }
  horizon_ = horizon;
  // Pruning needs a horizon about every second, not one per read.
  const auto now = std::chrono::steady_clock::now();
  if (horizons_.empty() || now - horizons_.back().first >= std::chrono::seconds(1)) horizons_.emplace_back(now, horizon);
  return absl::OkStatus();
}

void PgChangeFeed::Prune() {
  const auto now = std::chrono::steady_clock::now();
  next_prune_ = now + kPruneEvery;
  uint64_t below = 0;
  while (!horizons_.empty() && horizons_.front().first <= now - options_.retention) {
    below = horizons_.front().second;
    horizons_.pop_front();
  }
  if (below == 0) return;
  absl::Status s = db_.WriteStatement("PruneChangeLog", [&](db::Tx& tx) -> absl::Status {
    return tx.Exec("DELETE FROM action_change_log WHERE xid < ?::xid8", {std::to_string(below)}).status();
  });
  if (!s.ok()) std::cerr << "pruning the action change log failed: " << s << "\n";
}

}  // namespace flyte::runs
