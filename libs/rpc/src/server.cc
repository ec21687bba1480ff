#include "flyte/rpc/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <future>
#include <optional>
#include <thread>

#include <grpc/grpc.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>

#include "grpc_service.h"
#include "http_session.h"
#include "server_core.h"

namespace flyte::rpc {
namespace {

using internal::net::ip::tcp;
namespace net = internal::net;
namespace beast = internal::beast;

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kPrefaceLen = sizeof(kPreface) - 1;  // 24
constexpr int kIoThreads = 2;

// Where connections go once sniffed. Guarded by `mu`: the handoff to grpc must not race with its shutdown.
struct Handoff {
  std::shared_mutex mu;
  bool closed = false;
  grpc::Server* server = nullptr;
  internal::ServerCore* core = nullptr;
};

// Peeks at the first bytes of a new connection (they stay in the socket) and routes it: the HTTP/2 client
// preface goes to grpc++, anything else to our HTTP/1.1 sessions.
class Sniffer : public std::enable_shared_from_this<Sniffer> {
 public:
  Sniffer(tcp::socket sock, std::shared_ptr<Handoff> handoff, internal::HttpContext http)
      : sock_(std::move(sock)),
        deadline_(sock_.get_executor()),
        repeek_(sock_.get_executor()),
        handoff_(std::move(handoff)),
        http_(std::move(http)) {}

  void Start() {
    deadline_.expires_after(http_.core->options().sniff_timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->decided_) return;
      self->decided_ = true;
      beast::error_code ig;
      self->repeek_.cancel();
      self->sock_.close(ig);
    });
    Peek();
  }

 private:
  void Peek() {
    sock_.async_receive(net::buffer(buf_), tcp::socket::message_peek,
                        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnPeek(ec, n); });
  }

  void OnPeek(beast::error_code ec, size_t n) {
    if (decided_) return;
    if (ec || n == 0) {
      decided_ = true;
      deadline_.cancel();
      return;
    }
    bool prefix_ok = std::memcmp(buf_.data(), kPreface, std::min(n, kPrefaceLen)) == 0;
    if (prefix_ok && n < kPrefaceLen) {
      // Part of the preface is here: peeking again at once would return the same bytes and spin.
      delay_ = std::min(delay_ * 2, std::chrono::milliseconds(50));
      repeek_.expires_after(delay_);
      repeek_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e && !self->decided_) self->Peek();
      });
      return;
    }
    decided_ = true;
    deadline_.cancel();
    beast::error_code ig;
    sock_.set_option(tcp::no_delay(true), ig);
    if (!prefix_ok) return internal::StartHttpSession(http_, std::move(sock_));

    std::string peer;
    auto ep = sock_.remote_endpoint(ig);
    if (!ig) {
      peer = std::string(ep.address().is_v6() ? "ipv6:[" : "ipv4:") + ep.address().to_string() +
             (ep.address().is_v6() ? "]:" : ":") + std::to_string(ep.port());
    }
    std::shared_lock<std::shared_mutex> lock(handoff_->mu);
    if (handoff_->closed) return;  // the socket closes with sock_
    int fd = sock_.release(ig);   // asio lets go of the fd; grpc owns it from the handoff on
    if (ig || fd < 0) return;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!peer.empty()) handoff_->core->SetFdPeer(fd, std::move(peer));
    grpc::AddInsecureChannelFromFd(handoff_->server, fd);
  }

  tcp::socket sock_;
  net::steady_timer deadline_;
  net::steady_timer repeek_;
  std::chrono::milliseconds delay_{1};
  std::array<char, kPrefaceLen> buf_{};
  bool decided_ = false;
  std::shared_ptr<Handoff> handoff_;
  internal::HttpContext http_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(Router* router, ServerOptions options)
      : core_(std::make_unique<internal::ServerCore>(router, std::move(options))),
        service_(std::make_unique<internal::GrpcGenericService>(core_.get())),
        gate_(std::make_shared<internal::IoGate>()),
        handoff_(std::make_shared<Handoff>()) {}

  ~Impl() { Shutdown(); }

  void AddHttpRoute(std::string method, std::string path_prefix, HttpHandler handler) {
    core_->routes().push_back({std::move(method), std::move(path_prefix), std::move(handler)});
  }

  absl::Status Start() {
    if (started_) return absl::FailedPreconditionError("server already started");
    const ServerOptions& o = core_->options();
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(service_.get());
    builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(o.max_message_bytes, INT32_MAX)));
    // Handed-over fds get no handshake timeout from grpc: idle and keepalive limits close dead peers.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
    grpc_ = builder.BuildAndStart();
    if (!grpc_) return absl::InternalError("could not build the gRPC server");
    handoff_->server = grpc_.get();
    handoff_->core = core_.get();

    std::string where = o.host + ":" + std::to_string(o.port);
    beast::error_code ec;
    net::ip::address addr = net::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
    if (ec) return absl::InvalidArgumentError("bad listen host " + o.host + ": " + ec.message());
    acceptor_.emplace(net::make_strand(io_));
    tcp::endpoint ep(addr, static_cast<unsigned short>(o.port));
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      grpc_->Shutdown();
      grpc_.reset();
      return absl::UnavailableError("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    accept_retry_.emplace(acceptor_->get_executor());
    started_ = true;
    DoAccept();
    for (int i = 0; i < kIoThreads; ++i) threads_.emplace_back([this] { io_.run(); });
    return absl::OkStatus();
  }

  int port() const { return port_; }

  std::shared_ptr<grpc::Channel> InProcessChannel() {
    if (!grpc_) return nullptr;
    return grpc_->InProcessChannel(grpc::ChannelArguments());
  }

  void Shutdown() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    const auto grace = core_->options().shutdown_grace;
    const auto deadline = std::chrono::steady_clock::now() + grace;
    core_->set_shutting_down();

    // 1. Stop accepting; no more handoffs to grpc.
    std::promise<void> closed;
    net::post(acceptor_->get_executor(), [this, &closed] {
      beast::error_code ig;
      acceptor_->close(ig);
      accept_retry_->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
    {
      std::unique_lock<std::shared_mutex> l(handoff_->mu);
      handoff_->closed = true;
    }
    // 2. Open streams end with UNAVAILABLE so clients re-watch elsewhere.
    core_->FinishAllStreams(absl::UnavailableError("server shutting down"));
    // 3. grpc while asio still runs (reactors finishing from our threads must not hang it).
    grpc_->Shutdown(std::chrono::system_clock::now() + grace);
    // 4. HTTP sessions: close idle ones, let busy ones answer, then force.
    for (auto& s : sessions_.Snapshot()) internal::CloseSessionWhenIdle(s);
    while ((sessions_.size() > 0 || core_->inflight() > 0) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& s : sessions_.Snapshot()) internal::CloseSessionNow(s);
    // Pool jobs hold sessions; they must be gone before the io_context is.
    auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while ((sessions_.size() > 0 && std::chrono::steady_clock::now() < hard) || core_->inflight() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // 5. Nothing may post to asio any more; stop it.
    {
      std::unique_lock<std::shared_mutex> l(gate_->mu);
      gate_->closed = true;
    }
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void DoAccept() {
    acceptor_->async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket sock) {
      if (!acceptor_->is_open() || core_->shutting_down()) return;
      if (ec) {
        // E.g. out of fds: back off instead of spinning.
        accept_retry_->expires_after(std::chrono::milliseconds(50));
        accept_retry_->async_wait([this](beast::error_code e) {
          if (!e && acceptor_->is_open()) DoAccept();
        });
        return;
      }
      std::make_shared<Sniffer>(std::move(sock), handoff_, internal::HttpContext{core_.get(), gate_, &sessions_})
          ->Start();
      DoAccept();
    });
  }

  std::unique_ptr<internal::ServerCore> core_;
  std::unique_ptr<internal::GrpcGenericService> service_;
  std::shared_ptr<internal::IoGate> gate_;
  std::shared_ptr<Handoff> handoff_;
  internal::SessionSet sessions_;
  std::unique_ptr<grpc::Server> grpc_;
  net::io_context io_{kIoThreads};
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> accept_retry_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

Server::Server(Router* router, ServerOptions options) : impl_(std::make_unique<Impl>(router, std::move(options))) {}
Server::~Server() = default;
void Server::AddHttpRoute(std::string method, std::string path_prefix, HttpHandler handler) {
  impl_->AddHttpRoute(std::move(method), std::move(path_prefix), std::move(handler));
}
absl::Status Server::Start() { return impl_->Start(); }
int Server::port() const { return impl_->port(); }
std::shared_ptr<grpc::Channel> Server::InProcessChannel() { return impl_->InProcessChannel(); }
void Server::Shutdown() { impl_->Shutdown(); }

}  // namespace flyte::rpc
