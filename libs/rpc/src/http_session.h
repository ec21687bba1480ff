#pragma once
// HTTP/1.1 side of the one-port server (internal): Connect unary + server streaming, health, metrics and plain
// routes, on Boost.Beast. Each session runs on its own strand; blocking work goes to the Router's pool.
#include <memory>
#include <mutex>
#include <optional>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <shared_mutex>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server_core.h"

namespace flyte::rpc::internal {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class HttpSession;

// Closed by the Server before it destroys its io_context; nothing posts to asio after that.
struct IoGate {
  std::shared_mutex mu;
  bool closed = false;
};

// Live sessions, so Shutdown can drain and close them.
struct SessionSet {
  std::mutex mu;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> live;
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return live.size();
  }
  std::vector<std::shared_ptr<HttpSession>> Snapshot() {
    std::vector<std::shared_ptr<HttpSession>> out;
    std::lock_guard<std::mutex> l(mu);
    for (auto& [p, w] : live) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }
};

struct HttpContext {
  ServerCore* core;
  std::shared_ptr<IoGate> gate;
  SessionSet* sessions;
};

// Starts serving HTTP/1.1 on an accepted socket (whose executor is a strand).
void StartHttpSession(const HttpContext& ctx, tcp::socket socket);
// Shutdown helpers; thread-safe.
void CloseSessionWhenIdle(const std::shared_ptr<HttpSession>& s);
void CloseSessionNow(const std::shared_ptr<HttpSession>& s);

}  // namespace flyte::rpc::internal
