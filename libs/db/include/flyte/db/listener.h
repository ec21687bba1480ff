#pragma once
// PostgreSQL LISTEN loop: a dedicated connection and thread that LISTENs on one channel and hands every
// notification payload to a callback. When the connection drops it reconnects with exponential backoff
// (100 ms doubling to 5 s) and calls `on_reconnect` once listening again, since notifications sent while it was
// away are lost (subscribers should re-read what they care about). The connection shows up in pg_stat_activity as
// application_name "flyte-listen <channel>".
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/db/config.h"

namespace flyte::db {

class PgListener {
 public:
  struct Callbacks {
    // Required; called on the listener thread with the payload and the PostgreSQL backend PID that sent it.
    std::function<void(std::string_view payload, int sender_pid)> on_notify;
    // Optional; called on the listener thread once listening again, with the last time the lost connection was
    // known to be receiving (notifications sent after it may have been missed).
    std::function<void(std::chrono::system_clock::time_point last_heard)> on_reconnect;
  };

  // Starts listening. Returns once the first LISTEN succeeded (kUnavailable if the database is unreachable;
  // the loop is not started then).
  static absl::StatusOr<std::unique_ptr<PgListener>> Start(const PostgresConfig& config, std::string channel,
                                                           Callbacks callbacks);
  ~PgListener();  // Stop()s.
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Stops the loop and joins the thread. Idempotent. Must not be called from a callback.
  void Stop();
  bool connected() const { return connected_.load(); }

 private:
  struct Impl;
  PgListener(std::string conninfo, std::string channel, Callbacks callbacks);
  void Loop();

  std::string conninfo_;
  std::string channel_;
  Callbacks callbacks_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::chrono::system_clock::time_point last_heard_;  // listener thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace flyte::db
