// RunsClient over the Connect protocol on HTTP/1.1 with Boost.Beast.
//
// Unary calls share a fixed set of keep-alive connections spread over a few single-threaded io_contexts (one
// io_context per thread, so a connection's handlers never run concurrently and need no strand). A call waits in
// its io_context's queue until one of that context's connections is idle. Every watch stream has a connection of
// its own, as HTTP/1.1 requires.
#include <utility>  // before asio: Boost 1.74 awaitable.hpp uses std::exchange without including it
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "client.h"

namespace flyte::loadgen {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
namespace wf = flyteidl2::workflow;

struct PendingCall {
  std::string path;
  std::string body;
  std::shared_ptr<google::protobuf::Message> resp;
  UnaryDone done;
};

class Worker;

// One keep-alive connection carrying one unary call at a time.
class UnaryConn : public std::enable_shared_from_this<UnaryConn> {
 public:
  UnaryConn(Worker* worker, net::io_context& ioc, tcp::endpoint ep, std::string host_header,
            std::chrono::milliseconds timeout)
      : worker_(worker), stream_(ioc), ep_(ep), host_header_(std::move(host_header)), timeout_(timeout) {}

  void Run(PendingCall call);

 private:
  void Send();
  void Fail(const std::string& what, const beast::error_code& ec);
  void Complete(const CallResult& r);

  Worker* worker_;
  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  std::string host_header_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
  PendingCall call_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

class Worker {
 public:
  Worker() : guard_(net::make_work_guard(ioc_)) {}
  void Start() { thread_ = std::thread([this] { ioc_.run(); }); }
  void Stop() {
    guard_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  net::io_context& ioc() { return ioc_; }

  void AddConn(std::shared_ptr<UnaryConn> c) {
    conns_.push_back(c);
    idle_.push_back(c.get());
  }
  // io thread only.
  void Submit(PendingCall call) {
    if (!idle_.empty()) {
      UnaryConn* c = idle_.back();
      idle_.pop_back();
      c->Run(std::move(call));
    } else {
      queue_.push_back(std::move(call));
    }
  }
  // io thread only: `c` finished its call.
  void Idle(UnaryConn* c) {
    if (!queue_.empty()) {
      PendingCall next = std::move(queue_.front());
      queue_.pop_front();
      c->Run(std::move(next));
    } else {
      idle_.push_back(c);
    }
  }

 private:
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
  std::vector<std::shared_ptr<UnaryConn>> conns_;
  std::vector<UnaryConn*> idle_;
  std::deque<PendingCall> queue_;
};

void UnaryConn::Run(PendingCall call) {
  call_ = std::move(call);
  req_ = {};
  req_.method(http::verb::post);
  req_.target(call_.path);
  req_.version(11);
  req_.set(http::field::host, host_header_);
  req_.set(http::field::content_type, "application/proto");
  req_.set("connect-protocol-version", "1");
  req_.set("connect-timeout-ms", std::to_string(timeout_.count()));
  req_.keep_alive(true);
  req_.body() = std::move(call_.body);
  req_.prepare_payload();
  stream_.expires_after(timeout_);
  if (connected_) {
    Send();
    return;
  }
  stream_.async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Fail("connect", ec);
    self->stream_.socket().set_option(tcp::no_delay(true), ec);
    self->connected_ = true;
    self->Send();
  });
}

void UnaryConn::Send() {
  http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Fail("write", ec);
    self->res_ = {};
    http::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec, size_t) {
      if (ec) return self->Fail("read", ec);
      CallResult r;
      if (self->res_.result_int() == 200) {
        if (!self->call_.resp->ParseFromString(self->res_.body())) {
          r = CallResult{kInternal, "response does not parse as " + self->call_.resp->GetTypeName()};
        }
      } else {
        r = ParseConnectError(self->res_.result_int(), self->res_.body());
      }
      if (!self->res_.keep_alive()) {
        beast::error_code ig;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ig);
        self->stream_.close();
        self->connected_ = false;
      }
      self->Complete(r);
    });
  });
}

void UnaryConn::Fail(const std::string& what, const beast::error_code& ec) {
  stream_.close();
  connected_ = false;
  buffer_.clear();
  int code = ec == beast::error::timeout ? kDeadlineExceeded : kUnavailable;
  Complete(CallResult{code, "connect transport " + what + ": " + ec.message()});
}

void UnaryConn::Complete(const CallResult& r) {
  UnaryDone done = std::move(call_.done);
  call_ = {};
  stream_.expires_never();
  done(r);
  worker_->Idle(this);
}

// One WatchRuns stream on its own connection: POST an enveloped request, then read the chunked body as it comes.
class WatchConn : public std::enable_shared_from_this<WatchConn> {
 public:
  using OnEnd = std::function<void(WatchConn*)>;
  WatchConn(net::io_context& ioc, tcp::endpoint ep, std::string host_header, std::string body,
            WatchObserver* observer, OnEnd on_end)
      : stream_(ioc), ep_(ep), host_header_(std::move(host_header)), observer_(observer),
        on_end_(std::move(on_end)), buffer_(16 * 1024) {
    req_.method(http::verb::post);
    req_.target(RpcPathWatch());
    req_.version(11);
    req_.set(http::field::host, host_header_);
    req_.set(http::field::content_type, "application/connect+proto");
    req_.set("connect-protocol-version", "1");
    req_.keep_alive(true);
    req_.body() = Envelope(body);
    req_.prepare_payload();
    parser_.body_limit(boost::none);  // a watch body has no end in sight
  }

  static std::string RpcPathWatch() { return "/flyteidl2.workflow.RunService/WatchRuns"; }

  void Start() {
    stream_.async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->End(CallResult{kUnavailable, "connect: " + ec.message()});
      self->stream_.socket().set_option(tcp::no_delay(true), ec);
      http::async_write(self->stream_, self->req_, [self](beast::error_code ec, size_t) {
        if (ec) return self->End(CallResult{kUnavailable, "write: " + ec.message()});
        http::async_read_header(self->stream_, self->buffer_, self->parser_, [self](beast::error_code ec, size_t) {
          if (ec) return self->End(CallResult{kUnavailable, "read header: " + ec.message()});
          self->status_ = self->parser_.get().result_int();
          if (self->status_ == 200) self->observer_->OnOpen();
          self->ReadSome();
        });
      });
    });
  }

  // Any thread.
  void Cancel() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->cancelled_ = true;
      beast::error_code ig;
      self->stream_.socket().cancel(ig);
      self->stream_.close();
    });
  }

 private:
  void ReadSome() {
    if (parser_.is_done()) return Finish();
    parser_.get().body().data = chunk_;
    parser_.get().body().size = sizeof(chunk_);
    http::async_read_some(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::need_buffer) ec = {};
      const size_t n = sizeof(self->chunk_) - self->parser_.get().body().size;
      if (n > 0) self->Consume(std::string_view(self->chunk_, n));
      if (self->ended_) return;
      if (ec) {
        if (self->cancelled_) return self->End(CallResult{1, "cancelled by client"});
        return self->End(CallResult{kUnavailable, "stream read: " + ec.message()});
      }
      self->ReadSome();
    });
  }

  void Consume(std::string_view bytes) {
    if (status_ != 200) {
      error_body_.append(bytes.substr(0, std::min<size_t>(bytes.size(), 4096)));
      return;
    }
    frames_.clear();
    if (!envelopes_.Feed(bytes, &frames_)) {
      return End(CallResult{kInternal, "malformed Connect envelope"});
    }
    for (Frame& f : frames_) {
      if (f.end_stream()) {
        end_result_ = ParseEndStream(f.payload);
        saw_end_ = true;
        continue;
      }
      if (f.flags & 0x01) return End(CallResult{kInternal, "compressed frame without negotiated encoding"});
      msg_.Clear();
      if (!msg_.ParseFromString(f.payload)) return End(CallResult{kInternal, "frame does not parse"});
      observer_->OnMessage(msg_);
    }
  }

  void Finish() {
    if (status_ != 200) return End(ParseConnectError(status_, error_body_));
    if (!saw_end_) return End(CallResult{kUnavailable, "stream ended without an end-of-stream frame"});
    End(end_result_);
  }

  void End(const CallResult& r) {
    if (ended_) return;
    ended_ = true;
    beast::error_code ig;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ig);
    stream_.close();
    observer_->OnDone(r);
    on_end_(this);
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  std::string host_header_;
  WatchObserver* observer_;
  OnEnd on_end_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response_parser<http::buffer_body> parser_;
  char chunk_[4096];
  int status_ = 0;
  std::string error_body_;
  EnvelopeParser envelopes_;
  std::vector<Frame> frames_;
  wf::WatchRunsResponse msg_;
  CallResult end_result_;
  bool saw_end_ = false;
  bool ended_ = false;
  bool cancelled_ = false;
};

class ConnectRunsClient : public RunsClient {
 public:
  explicit ConnectRunsClient(const ClientOptions& o) : options_(o) {
    net::io_context resolver_ctx;
    tcp::resolver resolver(resolver_ctx);
    auto results = resolver.resolve(o.host, std::to_string(o.port));
    ep_ = results.begin()->endpoint();
    host_header_ = o.host + ":" + std::to_string(o.port);
    const int threads = std::max(1, o.io_threads);
    for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
    for (int i = 0; i < std::max(1, o.connections); ++i) {
      Worker& w = *workers_[i % threads];
      w.AddConn(std::make_shared<UnaryConn>(&w, w.ioc(), ep_, host_header_, o.timeout));
    }
    for (auto& w : workers_) w->Start();
  }

  ~ConnectRunsClient() override {
    CancelWatches(std::chrono::milliseconds(5000));
    for (auto& w : workers_) w->Stop();
  }

  std::string name() const override { return "connect"; }

  void Unary(Rpc rpc, std::shared_ptr<const google::protobuf::Message> req,
             std::shared_ptr<google::protobuf::Message> resp, UnaryDone done) override {
    PendingCall call{std::string(RpcPath(rpc)), req->SerializeAsString(), std::move(resp), std::move(done)};
    Worker* w = workers_[rr_.fetch_add(1) % workers_.size()].get();
    net::post(w->ioc(), [w, call = std::move(call)]() mutable { w->Submit(std::move(call)); });
  }

  void Watch(const wf::WatchRunsRequest& req, WatchObserver* observer) override {
    Worker* w = workers_[rr_.fetch_add(1) % workers_.size()].get();
    auto conn = std::make_shared<WatchConn>(w->ioc(), ep_, host_header_, req.SerializeAsString(), observer,
                                            [this](WatchConn* c) { Ended(c); });
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.emplace(conn.get(), conn);
    }
    net::post(w->ioc(), [conn] { conn->Start(); });
  }

  void CancelWatches(std::chrono::milliseconds wait) override {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto& [ptr, conn] : live_) conn->Cancel();
    cv_.wait_for(lock, wait, [this] { return live_.empty(); });
  }

 private:
  void Ended(WatchConn* c) {
    std::shared_ptr<WatchConn> keep;  // released outside the lock: the conn may be in its last handler
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(c);
    if (it != live_.end()) {
      keep = std::move(it->second);
      live_.erase(it);
    }
    if (live_.empty()) cv_.notify_all();
  }

  ClientOptions options_;
  tcp::endpoint ep_;
  std::string host_header_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> rr_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<WatchConn*, std::shared_ptr<WatchConn>> live_;
};

}  // namespace

std::string_view RpcPath(Rpc rpc) {
  switch (rpc) {
    case Rpc::kCreateRun: return "/flyteidl2.workflow.RunService/CreateRun";
    case Rpc::kGetRunDetails: return "/flyteidl2.workflow.RunService/GetRunDetails";
    case Rpc::kListRuns: return "/flyteidl2.workflow.RunService/ListRuns";
  }
  return "";
}

std::unique_ptr<RunsClient> MakeConnectClient(const ClientOptions& options) {
  return std::make_unique<ConnectRunsClient>(options);
}

}  // namespace flyte::loadgen
