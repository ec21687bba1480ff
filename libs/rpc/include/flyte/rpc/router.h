#pragma once
// Transport-independent RPC table. Services register typed handlers here once; the one-port Server
// (server.h) serves every registered method over gRPC (HTTP/2, callback API) and over the Connect protocol
// (HTTP/1.1, proto and JSON codecs). Handlers never see a transport type.
//
// Threading: unary handlers and stream-open handlers run on the WorkPool given to the Router (blocking database
// work is fine there); they never run on gRPC's or asio's threads. A full pool answers RESOURCE_EXHAUSTED.
// Registration happens before Server::Start and is not thread-safe; lookups afterwards are.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "flyte/common/work_pool.h"

namespace flyte::rpc {

// Tells a handler that its call is over on the transport side: the client cancelled it or went away (gRPC
// RST_STREAM or connection loss; Connect: the client closed the connection), its deadline passed, or the server
// is closing the connection. An answer produced after that is never received, so a handler that hands something
// out (a lease, a token) must check `cancelled()` right before committing, and a handler that waits should
// register a wake-up with OnCancel.
//
// Thread-safe. Set by the transports; Cancel() may also be called by tests.
class CallCancellation {
 public:
  // Removes its callback when destroyed; see OnCancel.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& o) noexcept : owner_(o.owner_), id_(o.id_) { o.owner_ = nullptr; }
    Registration& operator=(Registration&& o) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { Reset(); }
    // Unregisters. If the callback is running on another thread, waits for it to return, so whatever it uses
    // may be destroyed afterwards.
    void Reset();

   private:
    friend class CallCancellation;
    Registration(CallCancellation* owner, uint64_t id) : owner_(owner), id_(id) {}
    CallCancellation* owner_ = nullptr;
    uint64_t id_ = 0;
  };

  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Sets the flag and runs every registered callback once, on the calling thread (a transport thread: keep
  // callbacks short and non-blocking, e.g. notify a condition variable). Idempotent.
  void Cancel();
  // `fn` runs once when the call is cancelled; at once (on this thread) if it already is. The returned
  // registration must not outlive this object.
  [[nodiscard]] Registration OnCancel(std::function<void()> fn);

 private:
  void Remove(uint64_t id);

  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable idle_cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
  uint64_t running_id_ = 0;  // callback being run by Cancel(), 0 if none
  std::thread::id running_thread_;
};

// What a handler may know about the call, whatever the transport.
struct CallContext {
  std::string method;                              // "/flyteidl2.workflow.RunService/CreateRun"
  std::multimap<std::string, std::string> headers;  // lower-case names (gRPC metadata or HTTP headers)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string peer;                                 // "ipv4:127.0.0.1:5555" style where known
  // Never null; shared with the transport, which cancels it (see CallCancellation). Copies of a CallContext
  // share it.
  std::shared_ptr<CallCancellation> cancellation = std::make_shared<CallCancellation>();

  // First value of a header, or "" if absent.
  std::string Header(std::string_view name) const;
  // The call was cancelled or its deadline has passed: nothing the handler answers will be received.
  bool cancelled() const {
    return cancellation->cancelled() || std::chrono::steady_clock::now() >= deadline;
  }
};

// The transport side of one server stream. Implemented by the gRPC and Connect adapters (and by tests).
// Thread-safe: Send/Finish may be called from any thread, concurrently.
class RawServerStream {
 public:
  virtual ~RawServerStream() = default;
  // Queues a message; never blocks. Returns false when the stream is over (finished, client gone, or its backlog
  // exceeded the limit, in which case the stream is finished with RESOURCE_EXHAUSTED so the client re-watches).
  virtual bool Send(const google::protobuf::Message& msg) = 0;
  // Ends the stream after queued messages are written. Idempotent; later calls are ignored.
  virtual void Finish(const absl::Status& status) = 0;
  // `fn` runs exactly once when the stream ends for any reason (Finish, client cancel, overflow, shutdown),
  // on an arbitrary thread; if the stream is already over it runs immediately. Use it to unsubscribe.
  virtual void OnDone(std::function<void()> fn) = 0;
  virtual bool done() const = 0;
  // Messages accepted by Send but not yet written to the transport. A producer that can wait (a log tail) keeps
  // this low instead of filling the backlog, so a slow client slows it down rather than ending the stream.
  virtual size_t queued() const { return 0; }
};

// Typed view of a server stream handed to handlers. Cheap to copy; keeps the stream alive.
template <class Resp>
class ServerStream {
 public:
  explicit ServerStream(std::shared_ptr<RawServerStream> raw) : raw_(std::move(raw)) {}
  bool Send(const Resp& msg) const { return raw_->Send(msg); }
  void Finish(const absl::Status& status) const { raw_->Finish(status); }
  void OnDone(std::function<void()> fn) const { raw_->OnDone(std::move(fn)); }
  bool done() const { return raw_->done(); }
  size_t queued() const { return raw_->queued(); }
  const std::shared_ptr<RawServerStream>& raw() const { return raw_; }

 private:
  std::shared_ptr<RawServerStream> raw_;
};

template <class Req, class Resp>
using UnaryHandler = std::function<absl::Status(const CallContext&, const Req&, Resp*)>;

// Opens a stream: may send and finish synchronously, or keep `stream` (e.g. in a watch subscription) and send
// later. The stream stays open until Finish is called or the client goes away.
template <class Req, class Resp>
using StreamHandler = std::function<void(const CallContext&, const Req&, ServerStream<Resp>)>;

// One registered method, type-erased for the transports.
struct Method {
  std::string path;  // "/package.Service/Method"
  bool server_streaming = false;
  // The schema marks it idempotency_level = NO_SIDE_EFFECTS: Connect serves it over HTTP GET too (if unary).
  bool no_side_effects = false;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  std::function<absl::Status(const CallContext&, const google::protobuf::Message&, google::protobuf::Message*)>
      unary;
  std::function<void(const CallContext&, const google::protobuf::Message&, std::shared_ptr<RawServerStream>)>
      stream;
};

class Router {
 public:
  explicit Router(common::WorkPool* pool) : pool_(pool) {}

  // `service` is the full service name ("flyteidl2.workflow.RunService"). Aborts the process at start if the
  // method does not exist in the generated descriptor pool or its request/response types differ from Req/Resp:
  // a wiring mistake must never reach a client.
  template <class Req, class Resp>
  void Unary(const std::string& service, const std::string& method, UnaryHandler<Req, Resp> fn) {
    Method m = Describe(service, method, false, Req::default_instance(), Resp::default_instance());
    m.unary = [fn = std::move(fn)](const CallContext& ctx, const google::protobuf::Message& req,
                                   google::protobuf::Message* resp) {
      return fn(ctx, static_cast<const Req&>(req), static_cast<Resp*>(resp));
    };
    Add(std::move(m));
  }

  template <class Req, class Resp>
  void ServerStreaming(const std::string& service, const std::string& method, StreamHandler<Req, Resp> fn) {
    Method m = Describe(service, method, true, Req::default_instance(), Resp::default_instance());
    m.stream = [fn = std::move(fn)](const CallContext& ctx, const google::protobuf::Message& req,
                                    std::shared_ptr<RawServerStream> raw) {
      fn(ctx, static_cast<const Req&>(req), ServerStream<Resp>(std::move(raw)));
    };
    Add(std::move(m));
  }

  // nullptr if no such method.
  const Method* Find(std::string_view path) const;
  const std::unordered_map<std::string, Method>& methods() const { return methods_; }
  common::WorkPool* pool() const { return pool_; }

 private:
  static Method Describe(const std::string& service, const std::string& method, bool streaming,
                         const google::protobuf::Message& req, const google::protobuf::Message& resp);
  void Add(Method m);

  common::WorkPool* pool_;
  std::unordered_map<std::string, Method> methods_;
};

}  // namespace flyte::rpc
