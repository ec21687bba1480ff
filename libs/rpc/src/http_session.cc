#include "http_session.h"

#include <deque>
#include <optional>

#include "connect_codec.h"
#include "connect_stream.h"
#include "flyte/rpc/status.h"

namespace flyte::rpc::internal {
namespace {

using Clock = std::chrono::steady_clock;
using StringResponse = http::response<http::string_body>;

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr size_t kMaxPipelinedBytes = 64 * 1024;
// Streaming connections get a small, fixed kernel send buffer (instead of autotuned megabytes) so a reader that
// falls behind shows up in the stream's own backlog, where the limit cuts it off, not in invisible socket
// buffers. The kernel doubles the value.
constexpr int kStreamSendBuffer = 64 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::shared_ptr<StringResponse> TextResponse(int status, std::string content_type, std::string body) {
  auto res = std::make_shared<StringResponse>();
  res->result(static_cast<unsigned>(status));
  res->set(http::field::content_type, content_type);
  res->body() = std::move(body);
  return res;
}

std::shared_ptr<StringResponse> ConnectError(const absl::Status& st) {
  return TextResponse(ConnectHttpStatus(st.code()), "application/json", connect::ErrorJson(st));
}

}  // namespace

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(const HttpContext& ctx, tcp::socket socket)
      : ctx_(ctx), socket_(std::move(socket)), timer_(socket_.get_executor()), deadline_timer_(socket_.get_executor()) {
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) {
      peer_ = std::string(ep.address().is_v6() ? "ipv6:[" : "ipv4:") + ep.address().to_string() +
              (ep.address().is_v6() ? "]:" : ":") + std::to_string(ep.port());
    }
  }
  ~HttpSession() {
    std::lock_guard<std::mutex> l(ctx_.sessions->mu);
    ctx_.sessions->live.erase(this);
  }

  void Start() {
    {
      std::lock_guard<std::mutex> l(ctx_.sessions->mu);
      ctx_.sessions->live[this] = weak_from_this();
    }
    DoRead();
  }

  // Posts `fn` to this session's strand unless the server has torn asio down.
  void Post(std::function<void()> fn) {
    std::shared_lock<std::shared_mutex> l(ctx_.gate->mu);
    if (ctx_.gate->closed) return;
    net::post(socket_.get_executor(), std::move(fn));
  }

  void Pump();
  net::any_io_executor executor() { return socket_.get_executor(); }

  void CloseWhenIdle() {
    closing_ = true;
    if (state_ == State::kReading) Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    CancelTimer();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    EndCall(/*cancel=*/true);
    if (stream_) {
      stream_->ClientGone();
      stream_.reset();
    }
  }

 private:
  enum class State { kReading, kBusy, kStreaming };

  void ArmTimer(Clock::duration d) {
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->Close();
    });
  }
  void CancelTimer() {
    ++timer_gen_;
    timer_.cancel();
  }

  // The Connect call now running (unary on the pool, or a stream) learns through `cancellation` that its client
  // left or its connect-timeout-ms passed.
  void BeginCall(const std::shared_ptr<CallCancellation>& cancellation, Clock::time_point deadline) {
    call_cancel_ = cancellation;
    if (deadline == Clock::time_point::max()) return;
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait([self = shared_from_this(), c = cancellation](beast::error_code ec) {
      if (ec || self->call_cancel_ != c) return;
      c->Cancel();
      if (self->stream_) self->stream_->Finish(absl::DeadlineExceededError("connect-timeout-ms elapsed"));
    });
  }
  void EndCall(bool cancel) {
    if (!call_cancel_) return;
    beast::error_code ig;
    deadline_timer_.cancel();
    if (cancel) call_cancel_->Cancel();
    call_cancel_.reset();
  }

  void DoRead() {
    if (closed_) return;
    if (closing_ || ctx_.core->shutting_down()) return Close();
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(ctx_.core->options().max_message_bytes + 64 * 1024);
    ArmTimer(kIdleTimeout);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    CancelTimer();
    if (closed_) return;
    state_ = State::kBusy;
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return WriteResponse(ConnectError(absl::ResourceExhaustedError("request body exceeds limit")), true);
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream) {
      keep_alive_ = false;
      return WriteResponse(TextResponse(400, "text/plain; charset=utf-8", "bad request\n"), true);
    }
    if (ec) return Close();
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    Dispatch();
  }

  void Dispatch() {
    std::string target(req_.target());
    std::string path = target.substr(0, target.find('?'));
    http::verb verb = req_.method();
    ServerCore* core = ctx_.core;

    if (verb == http::verb::get && path == "/healthz") {
      return WriteResponse(TextResponse(200, "text/plain; charset=utf-8", "ok\n"));
    }
    if (verb == http::verb::get && path == "/readyz") {
      return RunOnPool([core]() {
        absl::Status st = core->options().readiness ? core->options().readiness() : absl::OkStatus();
        if (st.ok()) return TextResponse(200, "text/plain; charset=utf-8", "ok\n");
        return TextResponse(503, "text/plain; charset=utf-8", std::string(st.message()) + "\n");
      });
    }
    if (verb == http::verb::get && path == "/metrics" && core->options().metrics != nullptr) {
      return WriteResponse(
          TextResponse(200, "text/plain; version=0.0.4; charset=utf-8", core->options().metrics->Serialize()));
    }
    if (const Method* m = core->router()->Find(path)) {
      const bool get_ok = m->no_side_effects && !m->server_streaming;
      if (verb == http::verb::get && get_ok) {
        size_t q = target.find('?');
        std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
        return HandleConnectGet(*m, query);
      }
      if (verb != http::verb::post) {
        auto res =
            ConnectError(absl::UnimplementedError(get_ok ? "method must be GET or POST" : "method must be POST"));
        res->result(http::status::method_not_allowed);
        res->set(http::field::allow, get_ok ? "GET, POST" : "POST");
        return WriteResponse(res);
      }
      return HandleConnect(*m);
    }
    for (const HttpRoute& r : core->routes()) {
      if (http::string_to_verb(r.method) == verb && path.rfind(r.path_prefix, 0) == 0) {
        auto hreq = std::make_shared<HttpRequest>();
        hreq->method = std::string(req_.method_string());
        hreq->target = target;
        for (const auto& f : req_) hreq->headers.emplace(Lower(f.name_string()), std::string(f.value()));
        hreq->body = std::move(req_.body());
        const HttpHandler* h = &r.handler;
        return RunOnPool([h, hreq]() {
          HttpResponse r = (*h)(*hreq);
          return TextResponse(r.status, r.content_type, std::move(r.body));
        });
      }
    }
    if (verb == http::verb::post && path.size() > 1 && path.find('/', 1) != std::string::npos) {
      core->RecordCall("unknown", absl::StatusCode::kUnimplemented, "connect", Clock::now(), false);
    }
    auto res = ConnectError(absl::UnimplementedError("no handler for " + path));
    res->result(http::status::not_found);
    WriteResponse(res);
  }

  void HandleConnect(const Method& m) {
    const auto start = Clock::now();
    ServerCore* core = ctx_.core;
    auto fail = [&](const absl::Status& st) {
      core->RecordCall(m.path, st.code(), "connect", start, m.server_streaming);
      if (m.server_streaming) {
        // Connect streams report errors in the end-of-stream frame of a 200 response.
        auto res = TextResponse(200, connect::ContentTypeString({true, codec_}),
                                connect::MakeEnvelope(connect::kFlagEndStream, connect::EndStreamJson(st)));
        return WriteResponse(res);
      }
      WriteResponse(ConnectError(st));
    };

    std::optional<connect::ContentType> ct =
        connect::ParseContentType(std::string_view(req_[http::field::content_type]));
    if (!ct || ct->streaming != m.server_streaming) {
      core->RecordCall(m.path, absl::StatusCode::kInvalidArgument, "connect", start, m.server_streaming);
      auto res = ConnectError(absl::InvalidArgumentError(
          "unsupported content-type \"" + std::string(req_[http::field::content_type]) + "\""));
      res->result(http::status::unsupported_media_type);
      res->set("accept-post", m.server_streaming ? "application/connect+proto, application/connect+json"
                                                 : "application/proto, application/json");
      return WriteResponse(res);
    }
    codec_ = ct->codec;
    if (absl::Status st = connect::CheckProtocolVersion(std::string_view(req_["connect-protocol-version"]));
        !st.ok()) {
      return fail(st);
    }
    absl::StatusOr<std::optional<std::chrono::milliseconds>> timeout =
        connect::ParseTimeoutMs(std::string_view(req_["connect-timeout-ms"]));
    if (!timeout.ok()) return fail(timeout.status());

    CallContext cc = MakeCallContext(m, start, *timeout);
    auto req = std::shared_ptr<google::protobuf::Message>(m.request_prototype->New());
    size_t max = core->options().max_message_bytes;
    if (!m.server_streaming) {
      absl::Status st = connect::DecodeUnaryRequest(req_.body(), codec_,
                                                    std::string_view(req_[http::field::content_encoding]), max,
                                                    req.get());
      if (!st.ok()) return fail(st);
      return RunUnary(m, std::move(cc), std::move(req), start);
    }

    absl::Status st = connect::DecodeStreamRequest(
        req_.body(), codec_, std::string_view(req_["connect-content-encoding"]), max, req.get());
    if (!st.ok()) return fail(st);
    bool gzip_ok = connect::AcceptsGzip(std::string_view(req_["connect-accept-encoding"]));
    OpenStream(m, std::move(cc), std::move(req), gzip_ok);
  }

  // A unary call sent as GET: the message, its codec and compression are in the query (connect_codec.h).
  void HandleConnectGet(const Method& m, std::string_view query) {
    const auto start = Clock::now();
    ServerCore* core = ctx_.core;
    auto fail = [&](const absl::Status& st) {
      core->RecordCall(m.path, st.code(), "connect", start, false);
      WriteResponse(ConnectError(st));
    };
    absl::StatusOr<connect::GetRequest> get = connect::ParseGetQuery(query);
    if (!get.ok()) return fail(get.status());
    codec_ = get->codec;
    absl::StatusOr<std::optional<std::chrono::milliseconds>> timeout =
        connect::ParseTimeoutMs(std::string_view(req_["connect-timeout-ms"]));
    if (!timeout.ok()) return fail(timeout.status());
    auto req = std::shared_ptr<google::protobuf::Message>(m.request_prototype->New());
    absl::Status st = connect::DecodeUnaryRequest(get->message, codec_, get->compression,
                                                  core->options().max_message_bytes, req.get());
    if (!st.ok()) return fail(st);
    RunUnary(m, MakeCallContext(m, start, *timeout), std::move(req), start);
  }

  CallContext MakeCallContext(const Method& m, Clock::time_point start,
                              std::optional<std::chrono::milliseconds> timeout) {
    CallContext cc;
    cc.method = m.path;
    for (const auto& f : req_) cc.headers.emplace(Lower(f.name_string()), std::string(f.value()));
    if (timeout) cc.deadline = start + *timeout;
    cc.peer = peer_;
    return cc;
  }

  // Runs a decoded unary request on the pool and answers it in codec_, gzipped if the client accepts that.
  void RunUnary(const Method& m, CallContext cc, std::shared_ptr<google::protobuf::Message> req,
                Clock::time_point start) {
    ServerCore* core = ctx_.core;
    bool gzip_ok = connect::AcceptsGzip(std::string_view(req_[http::field::accept_encoding]));
    const Method* mp = &m;
    connect::Codec codec = codec_;
    BeginCall(cc.cancellation, cc.deadline);
    RunOnPool([core, mp, cc = std::move(cc), req, codec, gzip_ok, start]() {
      std::unique_ptr<google::protobuf::Message> resp(mp->response_prototype->New());
      absl::Status st = Clock::now() >= cc.deadline
                            ? absl::DeadlineExceededError("deadline exceeded before the call started")
                        : cc.cancellation->cancelled() ? absl::CancelledError("call cancelled before it started")
                                                       : mp->unary(cc, *req, resp.get());
      std::shared_ptr<StringResponse> res;
      if (st.ok()) {
        absl::StatusOr<std::string> body = connect::EncodeMessage(*resp, codec);
        if (body.ok()) {
          res = TextResponse(200, connect::ContentTypeString({false, codec}), std::move(*body));
          if (gzip_ok && res->body().size() >= kGzipMinBytes) {
            res->body() = connect::GzipDeflate(res->body());
            res->set(http::field::content_encoding, "gzip");
          }
        } else {
          st = body.status();
        }
      }
      if (!st.ok()) res = ConnectError(st);
      core->RecordCall(mp->path, st.code(), "connect", start, false);
      return res;
    });
  }

  void OpenStream(const Method& m, CallContext cc, std::shared_ptr<google::protobuf::Message> req, bool gzip) {
    ServerCore* core = ctx_.core;
    auto stream = std::make_shared<ConnectStream>(weak_from_this(), ctx_.gate, codec_, gzip,
                                                  core->options().stream_backlog);
    stream_ = stream;
    state_ = State::kStreaming;
    header_done_ = false;
    std::shared_ptr<RawServerStream> raw = stream;
    core->TrackStream(m.path, raw);
    BeginCall(cc.cancellation, cc.deadline);
    std::string path = m.path;
    ConnectStream* sp = stream.get();
    raw->OnDone([core, path, sp] {
      core->RecordCall(path, sp->final_code(), "connect", Clock::now(), true);
      core->UntrackStream(path, sp);
    });

    beast::error_code ig;
    socket_.set_option(net::socket_base::send_buffer_size(kStreamSendBuffer), ig);
    stream_res_.emplace();
    stream_res_->result(http::status::ok);
    stream_res_->version(11);
    stream_res_->set(http::field::content_type, connect::ContentTypeString({true, codec_}));
    if (gzip) stream_res_->set("connect-content-encoding", "gzip");
    stream_res_->keep_alive(keep_alive_);
    stream_res_->chunked(true);
    stream_sr_.emplace(*stream_res_);
    ArmTimer(kWriteTimeout);
    http::async_write_header(socket_, *stream_sr_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->CancelTimer();
      if (ec) return self->Close();
      self->header_done_ = true;
      self->ArmWatch();
      self->Pump();
    });

    if (core->shutting_down()) return raw->Finish(absl::UnavailableError("server shutting down"));
    const Method* mp = &m;
    absl::Status submitted = core->router()->pool()->Submit([mp, cc = std::move(cc), req, raw]() {
      if (!raw->done()) mp->stream(cc, *req, raw);
    });
    if (!submitted.ok()) raw->Finish(absl::ResourceExhaustedError("server busy: " + std::string(submitted.message())));
  }

  // While a response streams or a unary call runs on the pool, keep a read open: it is how we learn that the
  // client left (EOF or reset -> Close -> the call's cancellation fires).
  void ArmWatch() {
    if (watch_pending_ || closed_ || buffer_.size() >= kMaxPipelinedBytes) return;
    watch_pending_ = true;
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->watch_pending_ = false;
      if (!ec) {
        self->buffer_.commit(n);
        if (self->state_ == State::kStreaming || self->awaiting_pool_) {
          self->ArmWatch();
        } else if (self->resume_after_watch_) {
          self->resume_after_watch_ = false;
          self->DoRead();
        }
        return;
      }
      if (ec == net::error::operation_aborted && self->resume_after_watch_) {
        self->resume_after_watch_ = false;
        return self->DoRead();
      }
      self->Close();
    });
  }

  void WriteLastChunk() {
    ArmTimer(kWriteTimeout);
    net::async_write(socket_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->CancelTimer();
      self->stream_.reset();
      self->stream_sr_.reset();
      self->stream_res_.reset();
      self->EndCall(/*cancel=*/false);
      if (ec || !self->keep_alive_ || self->closing_ || self->ctx_.core->shutting_down()) return self->Close();
      self->state_ = State::kBusy;
      self->ReadNext();
    });
  }

  // The next request, once a pending watch read (ArmWatch) has been cancelled.
  void ReadNext() {
    if (watch_pending_) {
      resume_after_watch_ = true;
      beast::error_code ig;
      socket_.cancel(ig);
      return;
    }
    DoRead();
  }

  void WriteResponse(std::shared_ptr<StringResponse> res, bool linger_close = false) {
    if (closed_) return;
    res->version(11);
    res->keep_alive(keep_alive_ && !closing_ && !ctx_.core->shutting_down());
    res->prepare_payload();
    ArmTimer(kWriteTimeout);
    http::async_write(socket_, *res, [self = shared_from_this(), res, linger_close](beast::error_code ec, size_t) {
      self->CancelTimer();
      if (ec) return self->Close();
      if (linger_close) return self->LingerClose();
      if (!res->keep_alive()) return self->Close();
      self->ReadNext();
    });
  }

  // After refusing a request whose body we did not read: stop sending, drain what the client still sends for a
  // moment so it can read our answer instead of a connection reset, then close.
  void LingerClose() {
    beast::error_code ig;
    socket_.shutdown(tcp::socket::shutdown_send, ig);
    ArmTimer(std::chrono::seconds(2));
    Drain();
  }
  void Drain() {
    buffer_.consume(buffer_.size());
    socket_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Drain();
    });
  }

  template <class Fn>
  void RunOnPool(Fn fn) {
    ServerCore* core = ctx_.core;
    core->inflight()++;
    auto self = shared_from_this();
    absl::Status submitted = core->router()->pool()->Submit([self, core, fn = std::move(fn)]() mutable {
      std::shared_ptr<StringResponse> res = fn();
      self->Post([self, res]() {
        self->awaiting_pool_ = false;
        self->EndCall(/*cancel=*/false);
        self->WriteResponse(res);
      });
      core->inflight()--;
    });
    if (!submitted.ok()) {
      core->inflight()--;
      EndCall(/*cancel=*/false);
      WriteResponse(ConnectError(absl::ResourceExhaustedError("server busy: " + std::string(submitted.message()))));
      return;
    }
    awaiting_pool_ = true;
    ArmWatch();
  }

  HttpContext ctx_;
  tcp::socket socket_;
  net::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  net::steady_timer deadline_timer_;
  std::shared_ptr<CallCancellation> call_cancel_;  // of the call in progress, if any
  bool awaiting_pool_ = false;                     // a RunOnPool answer is pending
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  State state_ = State::kBusy;
  bool keep_alive_ = true;
  bool closing_ = false;
  bool closed_ = false;
  connect::Codec codec_ = connect::Codec::kProto;

  // Streaming response.
  std::shared_ptr<ConnectStream> stream_;
  std::optional<http::response<http::empty_body>> stream_res_;
  std::optional<http::response_serializer<http::empty_body>> stream_sr_;
  std::vector<std::string> frames_;              // of the write in progress
  std::vector<net::const_buffer> frame_buffers_;
  bool header_done_ = false;
  bool writing_ = false;
  bool watch_pending_ = false;
  bool resume_after_watch_ = false;
};

void HttpSession::Pump() {
  if (!stream_ || writing_ || !header_done_ || closed_) return;
  ConnectStream::Next next = stream_->Take(&frames_);
  if (next == ConnectStream::Next::kNone) return;
  writing_ = true;
  ArmTimer(kWriteTimeout);
  bool end = next == ConnectStream::Next::kEnd;
  frame_buffers_.clear();
  for (const std::string& f : frames_) frame_buffers_.push_back(net::buffer(f));
  net::async_write(socket_, http::make_chunk(frame_buffers_),
                   [self = shared_from_this(), end](beast::error_code ec, size_t) {
                     self->writing_ = false;
                     self->CancelTimer();
                     if (self->stream_) self->stream_->WriteDone();
                     if (ec) return self->Close();
                     if (end) return self->WriteLastChunk();
                     self->Pump();
                   });
}

void ConnectStream::Kick() {
  std::shared_lock<std::shared_mutex> l(gate_->mu);
  if (gate_->closed) return;
  if (auto s = session_.lock()) {
    net::post(s->executor(), [s] { s->Pump(); });
  }
}

void StartHttpSession(const HttpContext& ctx, tcp::socket socket) {
  std::make_shared<HttpSession>(ctx, std::move(socket))->Start();
}

void CloseSessionWhenIdle(const std::shared_ptr<HttpSession>& s) {
  s->Post([s] { s->CloseWhenIdle(); });
}

void CloseSessionNow(const std::shared_ptr<HttpSession>& s) {
  s->Post([s] { s->Close(); });
}

}  // namespace flyte::rpc::internal
