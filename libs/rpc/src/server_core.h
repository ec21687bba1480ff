#pragma once
// State shared by the two transports of one Server (internal). Thread-safe.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/router.h"
#include "flyte/rpc/server.h"

namespace flyte::rpc::internal {

struct HttpRoute {
  std::string method;
  std::string path_prefix;
  HttpHandler handler;
};

// Converts a wall-clock deadline (gRPC) into the steady clock CallContext uses.
inline std::chrono::steady_clock::time_point SteadyDeadline(std::chrono::system_clock::time_point d) {
  if (d >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return std::chrono::steady_clock::time_point::max();
  }
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(d - std::chrono::system_clock::now());
}

class ServerCore {
 public:
  ServerCore(Router* router, ServerOptions options) : router_(router), options_(std::move(options)) {}

  Router* router() const { return router_; }
  const ServerOptions& options() const { return options_; }
  std::vector<HttpRoute>& routes() { return routes_; }
  bool shutting_down() const { return shutting_down_.load(); }
  void set_shutting_down() { shutting_down_ = true; }

  // One finished call, for metrics. `method` should be a Router path or "unknown".
  void RecordCall(const std::string& method, absl::StatusCode code, const char* transport,
                  std::chrono::steady_clock::time_point start, bool streaming) {
    if (options_.metrics == nullptr) return;
    double secs = streaming ? -1.0
                            : std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    options_.metrics->ObserveRpc(method, absl::StatusCodeToString(code), transport, secs);
  }

  // Open streams of both transports, so Shutdown can finish them. The stream's OnDone must call UntrackStream.
  void TrackStream(const std::string& method, const std::shared_ptr<RawServerStream>& s) {
    if (options_.metrics) options_.metrics->StreamOpened(method);
    std::lock_guard<std::mutex> l(streams_mu_);
    streams_[s.get()] = s;
  }
  void UntrackStream(const std::string& method, RawServerStream* s) {
    if (options_.metrics) options_.metrics->StreamClosed(method);
    std::lock_guard<std::mutex> l(streams_mu_);
    streams_.erase(s);
  }
  void FinishAllStreams(const absl::Status& status) {
    std::vector<std::shared_ptr<RawServerStream>> live;
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& [p, w] : streams_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->Finish(status);
  }

  // Unary calls running or queued on the pool (both transports).
  std::atomic<int>& inflight() { return inflight_; }

  // gRPC reports "fd:N" as the peer of a handed-over connection; remember the real address per fd.
  void SetFdPeer(int fd, std::string peer) {
    std::lock_guard<std::mutex> l(peers_mu_);
    fd_peers_[fd] = std::move(peer);
  }
  std::string Peer(const std::string& grpc_peer) {
    if (grpc_peer.rfind("fd:", 0) != 0) return grpc_peer;
    int fd = std::atoi(grpc_peer.c_str() + 3);
    std::lock_guard<std::mutex> l(peers_mu_);
    auto it = fd_peers_.find(fd);
    return it == fd_peers_.end() ? grpc_peer : it->second;
  }

 private:
  Router* router_;
  ServerOptions options_;
  std::vector<HttpRoute> routes_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int> inflight_{0};
  std::mutex streams_mu_;
  std::unordered_map<RawServerStream*, std::weak_ptr<RawServerStream>> streams_;
  std::mutex peers_mu_;
  std::unordered_map<int, std::string> fd_peers_;
};

}  // namespace flyte::rpc::internal
