// LISTEN loop. libpq only notices a dead server when it reads from the socket, so besides waiting for
// notifications the loop pings once a second.
#include "flyte/db/listener.h"

#include <iostream>

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>

#include <stdexcept>

#include "flyte/db/database.h"

namespace flyte::db {

// Plain libpq: the LISTEN connection needs nothing but a socket to wait on and PQnotifies, and libpq reports a
// dead server directly (PQconsumeInput fails) without libpqxx's reconnect machinery in between.
struct PgListener::Impl {
  PGconn* conn = nullptr;

  // Throws std::runtime_error when the connection or the LISTEN fails.
  void Connect(const std::string& conninfo, const std::string& channel) {
    Close();
    conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string err = PQerrorMessage(conn);
      Close();
      throw std::runtime_error(err);
    }
    char* quoted = PQescapeIdentifier(conn, channel.data(), channel.size());
    if (quoted == nullptr) {
      std::string err = PQerrorMessage(conn);
      Close();
      throw std::runtime_error(err);
    }
    PGresult* r = PQexec(conn, ("LISTEN " + std::string(quoted)).c_str());
    PQfreemem(quoted);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      std::string err = PQerrorMessage(conn);
      Close();
      throw std::runtime_error(err);
    }
  }

  // Waits up to `timeout` for input and hands every queued notification to `fn`. Throws when the connection is
  // gone.
  void Poll(std::chrono::milliseconds timeout, const std::function<void(std::string_view, int)>& fn) {
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    if (pfd.fd < 0) throw std::runtime_error("no socket");
    const int n = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    if (n > 0 && PQconsumeInput(conn) == 0) throw std::runtime_error(PQerrorMessage(conn));
    while (PGnotify* note = PQnotifies(conn)) {
      std::string payload = note->extra ? note->extra : "";
      const int sender = note->be_pid;
      PQfreemem(note);
      fn(payload, sender);
    }
    if (PQstatus(conn) != CONNECTION_OK) throw std::runtime_error("connection lost");
  }

  // A round trip, so a silently dead server is noticed.
  void Ping() {
    PGresult* r = PQexec(conn, "SELECT 1");
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) throw std::runtime_error(PQerrorMessage(conn));
  }

  void Close() {
    if (conn != nullptr) PQfinish(conn);
    conn = nullptr;
  }
  ~Impl() { Close(); }
};

PgListener::PgListener(std::string conninfo, std::string channel, Callbacks callbacks)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      callbacks_(std::move(callbacks)),
      impl_(std::make_unique<Impl>()) {}

absl::StatusOr<std::unique_ptr<PgListener>> PgListener::Start(const PostgresConfig& config, std::string channel,
                                                              Callbacks callbacks) {
  if (!callbacks.on_notify) return absl::InvalidArgumentError("on_notify is required");
  std::string conninfo = PostgresConnectionString(config);
  if (conninfo.find("connect_timeout") == std::string::npos) conninfo += " connect_timeout=5";
  conninfo += " application_name='flyte-listen " + channel + "'";
  std::unique_ptr<PgListener> l(new PgListener(std::move(conninfo), std::move(channel), std::move(callbacks)));
  try {
    l->impl_->Connect(l->conninfo_, l->channel_);
  } catch (const std::exception& e) {
    std::cerr << "LISTEN " << l->channel_ << " failed: " << e.what() << "\n";
    return absl::UnavailableError("cannot connect to database for LISTEN");
  }
  l->connected_ = true;
  l->last_heard_ = std::chrono::system_clock::now();
  l->thread_ = std::thread([p = l.get()] { p->Loop(); });
  return l;
}

PgListener::~PgListener() { Stop(); }

void PgListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  impl_->Close();
}

void PgListener::Loop() {
  using namespace std::chrono_literals;
  auto backoff = 100ms;
  auto last_ping = std::chrono::steady_clock::now();
  while (!stop_) {
    if (!connected_) {
      try {
        impl_->Connect(conninfo_, channel_);
        connected_ = true;
        backoff = 100ms;
        last_ping = std::chrono::steady_clock::now();
        if (callbacks_.on_reconnect) callbacks_.on_reconnect(last_heard_);
        last_heard_ = std::chrono::system_clock::now();
      } catch (const std::exception& e) {
        impl_->Close();
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, backoff, [&] { return stop_.load(); });
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
        continue;
      }
    }
    try {
      // Taken before the poll: whatever was sent after this moment is not known to have arrived.
      const auto polled_at = std::chrono::system_clock::now();
      impl_->Poll(200ms, callbacks_.on_notify);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_ping > 1s) {
        last_ping = now;
        impl_->Ping();
      }
      last_heard_ = polled_at;
    } catch (const std::exception& e) {
      std::cerr << "LISTEN " << channel_ << " lost its connection (" << e.what() << "); reconnecting\n";
      connected_ = false;
      impl_->Close();
    }
  }
}

}  // namespace flyte::db
