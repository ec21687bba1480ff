// LISTEN loop. libpq only notices a dead server when it reads from the socket, so besides waiting for
// notifications the loop pings once a second while idle.
#include "flyte/db/listener.h"

#include <iostream>

#include <pqxx/pqxx>

#include "flyte/db/database.h"

namespace flyte::db {

namespace {
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel,
           const std::function<void(std::string_view)>& fn)
      : pqxx::notification_receiver(c, channel), fn_(fn) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { fn_(payload); }

 private:
  const std::function<void(std::string_view)>& fn_;
};
}  // namespace

struct PgListener::Impl {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> receiver;

  void Connect(const std::string& conninfo, const std::string& channel,
               const std::function<void(std::string_view)>& fn) {
    receiver.reset();
    conn.reset();
    auto c = std::make_unique<pqxx::connection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->inhibit_reactivation(true);  // the loop reconnects (and re-LISTENs) itself
#pragma GCC diagnostic pop
    receiver = std::make_unique<Receiver>(*c, channel, fn);  // issues LISTEN
    conn = std::move(c);
  }
  void Close() {
    receiver.reset();
    conn.reset();
  }
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
  std::unique_ptr<PgListener> l(new PgListener(std::move(conninfo), std::move(channel), std::move(callbacks)));
  try {
    l->impl_->Connect(l->conninfo_, l->channel_, l->callbacks_.on_notify);
  } catch (const std::exception& e) {
    std::cerr << "LISTEN " << l->channel_ << " failed: " << e.what() << "\n";
    return absl::UnavailableError("cannot connect to database for LISTEN");
  }
  l->connected_ = true;
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
        impl_->Connect(conninfo_, channel_, callbacks_.on_notify);
        connected_ = true;
        backoff = 100ms;
        last_ping = std::chrono::steady_clock::now();
        if (callbacks_.on_reconnect) callbacks_.on_reconnect();
      } catch (const std::exception& e) {
        impl_->Close();
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, backoff, [&] { return stop_.load(); });
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
        continue;
      }
    }
    try {
      const int n = impl_->conn->await_notification(0, 200'000);
      const auto now = std::chrono::steady_clock::now();
      if (n == 0 && now - last_ping > 1s) {
        last_ping = now;
        pqxx::nontransaction ping(*impl_->conn);
        ping.exec("SELECT 1");
      }
      if (!impl_->conn->is_open()) throw pqxx::broken_connection("connection closed");
    } catch (const std::exception& e) {
      std::cerr << "LISTEN " << channel_ << " lost its connection (" << e.what() << "); reconnecting\n";
      connected_ = false;
      impl_->Close();
    }
  }
}

}  // namespace flyte::db
