#include "grpc_service.h"

#include <deque>
#include <optional>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "flyte/rpc/status.h"

namespace flyte::rpc::internal {
namespace {

using Clock = std::chrono::steady_clock;

grpc::ByteBuffer Serialize(const google::protobuf::Message& msg) {
  grpc::ByteBuffer bb;
  bool own = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(msg, &bb, &own);
  return bb;
}

class UnknownMethod final : public grpc::ServerGenericBidiReactor {
 public:
  UnknownMethod(ServerCore* core, const std::string& method) {
    core->RecordCall("unknown", absl::StatusCode::kUnimplemented, "grpc", Clock::now(), false);
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + method));
  }
  void OnDone() override { delete this; }
};

class GrpcCall;

// The stream handed to handlers. Its lock orders every reactor operation: one write in flight, Finish only when
// no write is outstanding, and at most once. Reactor calls happen outside the lock. A write that Send makes
// possible is started on the write pump, not on the sender's thread (see grpc_write_pump.h).
class GrpcStream final : public RawServerStream,
                         public GrpcWritePump::Pumpable,
                         public std::enable_shared_from_this<GrpcStream> {
 public:
  GrpcStream(GrpcCall* call, size_t backlog, GrpcWritePump* pump) : call_(call), backlog_(backlog), pump_(pump) {}

  bool Send(const google::protobuf::Message& msg) override;
  // Write pump side: starts the next write (or the Finish) if the stream is idle.
  void Pump() override;
  void Finish(const absl::Status& status) override;
  void OnDone(std::function<void()> fn) override {
    std::unique_lock<std::mutex> l(mu_);
    if (!over_) {
      callbacks_.push_back(std::move(fn));
      return;
    }
    l.unlock();
    fn();
  }
  bool done() const override {
    std::lock_guard<std::mutex> l(mu_);
    return over_;
  }
  size_t queued() const override {
    std::lock_guard<std::mutex> l(mu_);
    return queue_.size() + (writing_ ? 1 : 0);
  }

  // Reactor side.
  void WriteDone(bool ok);
  void Cancelled();
  void ReactorDone();
  grpc::Status final_status() const {
    std::lock_guard<std::mutex> l(mu_);
    return finish_.value_or(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

 private:
  using Action = std::function<void()>;
  // Decides the next reactor operation under the lock; the caller runs it after unlocking.
  Action PumpLocked();
  std::vector<std::function<void()>> EndLocked(grpc::Status status) {
    over_ = true;
    if (!finish_) finish_ = std::move(status);
    return std::move(callbacks_);
  }
  static void Run(Action a, std::vector<std::function<void()>> cbs) {
    if (a) a();
    for (auto& cb : cbs) cb();
  }

  mutable std::mutex mu_;
  GrpcCall* call_;  // null once the reactor is done
  const size_t backlog_;
  GrpcWritePump* const pump_;
  std::deque<grpc::ByteBuffer> queue_;
  grpc::ByteBuffer current_;
  bool writing_ = false;
  bool over_ = false;
  bool finish_called_ = false;
  bool pump_scheduled_ = false;  // on the write pump's queue; further Sends need not schedule again
  std::optional<grpc::Status> finish_;
  std::vector<std::function<void()>> callbacks_;
};

class GrpcCall final : public grpc::ServerGenericBidiReactor {
 public:
  GrpcCall(ServerCore* core, GrpcWritePump* pump, grpc::GenericCallbackServerContext* ctx, const Method* method)
      : core_(core), ctx_(ctx), method_(method), start_(Clock::now()) {
    if (method_->server_streaming) {
      stream_ = std::make_shared<GrpcStream>(this, core_->options().stream_backlog, pump);
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return FinishUnary(absl::InvalidArgumentError("missing request message"));
    if (request_.Length() > core_->options().max_message_bytes) {
      return FinishUnary(absl::ResourceExhaustedError("request message exceeds limit"));
    }
    auto req = std::shared_ptr<google::protobuf::Message>(method_->request_prototype->New());
    {
      grpc::ProtoBufferReader reader(&request_);
      if (!req->ParseFromZeroCopyStream(&reader)) {
        return FinishUnary(absl::InvalidArgumentError("cannot parse " + req->GetTypeName()));
      }
    }
    request_.Clear();
    CallContext cc;
    cc.method = method_->path;
    for (const auto& [k, v] : ctx_->client_metadata()) {
      cc.headers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    cc.deadline = SteadyDeadline(ctx_->deadline());
    cc.peer = core_->Peer(ctx_->peer());
    cc.cancellation = cancellation_;

    if (method_->server_streaming) return OpenStream(std::move(cc), std::move(req));

    core_->inflight()++;
    ServerCore* core = core_;
    absl::Status submitted = core_->router()->pool()->Submit([this, core, cc = std::move(cc), req]() {
      absl::Status st;
      std::unique_ptr<google::protobuf::Message> resp(method_->response_prototype->New());
      if (Clock::now() >= cc.deadline) {
        st = absl::DeadlineExceededError("deadline exceeded before the call started");
      } else if (cc.cancellation->cancelled()) {
        st = absl::CancelledError("call cancelled before it started");
      } else {
        st = method_->unary(cc, *req, resp.get());
      }
      if (st.ok()) {
        response_ = Serialize(*resp);
        core_->RecordCall(method_->path, absl::StatusCode::kOk, "grpc", start_, false);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      } else {
        FinishUnary(st);
      }
      core->inflight()--;  // `this` may be gone once Finish was called
    });
    if (!submitted.ok()) {
      core_->inflight()--;
      FinishUnary(absl::ResourceExhaustedError("server busy: " + std::string(submitted.message())));
    }
  }

  void OnWriteDone(bool ok) override {
    if (stream_) stream_->WriteDone(ok);
  }
  // Client cancel, deadline, or connection lost. Handlers learn of it through CallContext::cancellation (a
  // parked long-poll must not hand out work nobody will receive).
  void OnCancel() override {
    cancellation_->Cancel();
    if (stream_) stream_->Cancelled();
  }
  void OnDone() override {
    if (stream_) {
      if (stream_opened_) {
        core_->RecordCall(method_->path, static_cast<absl::StatusCode>(stream_->final_status().error_code()),
                          "grpc", start_, true);
      }
      stream_->ReactorDone();
    }
    delete this;
  }

 private:
  // Unary completion, or a streaming call that failed before its handler ran.
  void FinishUnary(const absl::Status& st) {
    core_->RecordCall(method_->path, st.code(), "grpc", start_, method_->server_streaming);
    if (stream_) {
      stream_->Finish(st);  // goes through the stream so ordering rules hold
      return;
    }
    Finish(ToGrpcStatus(st));
  }

  void OpenStream(CallContext cc, std::shared_ptr<google::protobuf::Message> req) {
    stream_opened_ = true;
    std::shared_ptr<RawServerStream> raw = stream_;
    core_->TrackStream(method_->path, raw);
    ServerCore* core = core_;
    std::string path = method_->path;
    RawServerStream* key = raw.get();
    raw->OnDone([core, path, key] { core->UntrackStream(path, key); });
    if (core_->shutting_down()) {
      raw->Finish(absl::UnavailableError("server shutting down"));
      return;
    }
    const Method* m = method_;
    absl::Status submitted = core_->router()->pool()->Submit([m, cc = std::move(cc), req, raw]() {
      if (raw->done()) return;
      m->stream(cc, *req, raw);
    });
    if (!submitted.ok()) raw->Finish(absl::ResourceExhaustedError("server busy: " + std::string(submitted.message())));
  }

  ServerCore* core_;
  grpc::GenericCallbackServerContext* ctx_;
  const Method* method_;
  Clock::time_point start_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::shared_ptr<GrpcStream> stream_;
  bool stream_opened_ = false;
  std::shared_ptr<CallCancellation> cancellation_ = std::make_shared<CallCancellation>();

  friend class GrpcStream;
};

GrpcStream::Action GrpcStream::PumpLocked() {
  if (call_ == nullptr || writing_ || finish_called_) return nullptr;
  GrpcCall* call = call_;
  if (!queue_.empty()) {
    writing_ = true;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    // No buffer_hint here: with one write in flight, a hinted write may not complete until a later write
    // flushes it, which then never comes (measured: streams stalled under load).
    return [call, buf = &current_] { call->StartWrite(buf); };
  }
  if (finish_) {
    finish_called_ = true;
    return [call, st = *finish_] { call->Finish(st); };
  }
  return nullptr;
}

bool GrpcStream::Send(const google::protobuf::Message& msg) {
  grpc::ByteBuffer bb = Serialize(msg);
  std::unique_lock<std::mutex> l(mu_);
  if (over_) return false;
  // The message being written counts too: it is not sent until its write completes.
  if (queue_.size() + (writing_ ? 1 : 0) >= backlog_) {
    queue_.clear();
    auto cbs = EndLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      "stream backlog exceeded: client too slow, re-watch"));
    Action a = PumpLocked();
    l.unlock();
    Run(std::move(a), std::move(cbs));
    return false;
  }
  queue_.push_back(std::move(bb));
  if (call_ == nullptr || writing_ || finish_called_ || pump_scheduled_) return true;  // WriteDone picks it up
  pump_scheduled_ = true;
  l.unlock();
  pump_->Schedule(shared_from_this());
  return true;
}

void GrpcStream::Pump() {
  std::unique_lock<std::mutex> l(mu_);
  pump_scheduled_ = false;
  Action a = PumpLocked();
  l.unlock();
  Run(std::move(a), {});
}

void GrpcStream::Finish(const absl::Status& status) {
  std::unique_lock<std::mutex> l(mu_);
  if (over_) return;
  auto cbs = EndLocked(ToGrpcStatus(status));
  Action a = PumpLocked();
  l.unlock();
  Run(std::move(a), std::move(cbs));
}

void GrpcStream::WriteDone(bool ok) {
  std::unique_lock<std::mutex> l(mu_);
  writing_ = false;
  std::vector<std::function<void()>> cbs;
  if (!ok) {
    queue_.clear();
    if (!over_) cbs = EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
  }
  Action a = PumpLocked();
  l.unlock();
  Run(std::move(a), std::move(cbs));
}

void GrpcStream::Cancelled() {
  std::unique_lock<std::mutex> l(mu_);
  queue_.clear();
  std::vector<std::function<void()>> cbs;
  if (!over_) {
    cbs = EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
  }
  Action a = PumpLocked();
  l.unlock();
  Run(std::move(a), std::move(cbs));
}

void GrpcStream::ReactorDone() {
  std::unique_lock<std::mutex> l(mu_);
  call_ = nullptr;
  queue_.clear();
  std::vector<std::function<void()>> cbs;
  if (!over_) cbs = EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "call ended"));
  l.unlock();
  Run(nullptr, std::move(cbs));
}

}  // namespace

grpc::ServerGenericBidiReactor* GrpcGenericService::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  const Method* m = core_->router()->Find(ctx->method());
  if (m == nullptr) return new UnknownMethod(core_, ctx->method());
  return new GrpcCall(core_, &write_pump_, ctx, m);
}

}  // namespace flyte::rpc::internal
