#pragma once
// One TCP port serving gRPC (HTTP/2 prior knowledge, handed to grpc++ via AddInsecureChannelFromFd) and
// HTTP/1.1 (Connect unary + server streaming, /healthz, /readyz, /metrics, extra plain HTTP routes), as in
// shared/reference/one-port-transport.md. Every method in the Router is served on both transports.
//
// Lifecycle: construct, AddHttpRoute..., Start(), ..., Shutdown() (also done by the destructor).
// Shutdown stops accepting, finishes open streams with UNAVAILABLE, waits up to `shutdown_grace` for in-flight
// unary calls, then closes everything.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "flyte/rpc/router.h"

namespace flyte::metrics { class Registry; }

namespace flyte::rpc {

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // path + query as received
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;    // already de-chunked
};
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
// Runs on the Router's WorkPool (may block).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8090;                                  // 0 picks a free port; see Server::port()
  size_t max_message_bytes = 4 * 1024 * 1024;       // request messages (after decompression) above this are refused
  size_t stream_backlog = 100;                      // messages queued per stream before it is finished
  std::chrono::milliseconds sniff_timeout{5000};    // a connection that sends nothing is closed after this
  std::chrono::milliseconds shutdown_grace{10000};
  std::function<absl::Status()> readiness;          // /readyz: OK -> 200 "ok", else 503 with the message
  metrics::Registry* metrics = nullptr;             // /metrics and per-RPC metrics; optional
};

class Server {
 public:
  Server(Router* router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Plain HTTP/1.1 route: exact `method`, and `path_prefix` matched against the target's path. Before Start().
  void AddHttpRoute(std::string method, std::string path_prefix, HttpHandler handler);

  // Binds and starts serving; kUnavailable naming host:port if the bind fails.
  absl::Status Start();
  int port() const;
  // A channel straight into the gRPC server (no TCP), for tests and for in-process clients.
  std::shared_ptr<grpc::Channel> InProcessChannel();
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flyte::rpc
