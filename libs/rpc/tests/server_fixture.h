#pragma once
// The fixture of the rpc server tests (server_grpc_test.cc, server_connect_test.cc): the real Server on 127.0.0.1
// port 0 with a small RunService, and raw HTTP/1.1 helpers for Connect.
#include "flyte/rpc/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "connect_codec.h"
#include "flyte/metrics/registry.h"
#include "flyte/rpc/router.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"

namespace flyte::rpc::test {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace connect = flyte::rpc::connect;
using tcp = net::ip::tcp;
using flyteidl2::workflow::GetRunDetailsRequest;
using flyteidl2::workflow::GetRunDetailsResponse;
using flyteidl2::workflow::WatchRunsRequest;
using flyteidl2::workflow::WatchRunsResponse;
using Clock = std::chrono::steady_clock;

inline constexpr char kService[] = "flyteidl2.workflow.RunService";
inline constexpr char kGet[] = "/flyteidl2.workflow.RunService/GetRunDetails";
inline constexpr char kWatch[] = "/flyteidl2.workflow.RunService/WatchRuns";

inline WatchRunsResponse RunMsg(const std::string& name, size_t pad = 0) {
  WatchRunsResponse r;
  auto* run = r.add_runs();
  run->mutable_action()->mutable_id()->mutable_run()->set_name(name);
  if (pad) (*run->mutable_labels())["pad"] = std::string(pad, 'x');
  return r;
}

// A small RunService: GetRunDetails echoes the run name ("missing" -> NOT_FOUND, "slow" sleeps 200 ms);
// WatchRuns by `org`: "n=K" streams K messages then OK; "hold" keeps the stream open; "flood" sends big messages
// until Send fails.
struct TestServer {
  explicit TestServer(flyte::rpc::ServerOptions opts = {}) {
    router.Unary<GetRunDetailsRequest, GetRunDetailsResponse>(
        kService, "GetRunDetails",
        [this](const flyte::rpc::CallContext& ctx, const GetRunDetailsRequest& req, GetRunDetailsResponse* resp) {
          last_peer = ctx.peer;
          last_header = ctx.Header("x-test");
          has_deadline = ctx.deadline != Clock::time_point::max();
          const std::string& name = req.run_id().name();
          if (name == "missing") return absl::NotFoundError("run missing not found");
          if (name == "park") return Park(ctx);
          if (name == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(200));
          resp->mutable_details()->mutable_action()->mutable_id()->mutable_run()->set_name(name);
          if (name == "big") resp->mutable_details()->mutable_action()->mutable_id()->set_name(std::string(5000, 'b'));
          return absl::OkStatus();
        });
    router.ServerStreaming<WatchRunsRequest, WatchRunsResponse>(
        kService, "WatchRuns",
        [this](const flyte::rpc::CallContext&, const WatchRunsRequest& req,
               flyte::rpc::ServerStream<WatchRunsResponse> stream) {
          const std::string& mode = req.org();
          if (mode.rfind("n=", 0) == 0) {
            int n = std::stoi(mode.substr(2));
            for (int i = 0; i < n; ++i) stream.Send(RunMsg("run" + std::to_string(i)));
            stream.Finish(absl::OkStatus());
          } else if (mode == "hold") {
            stream.Send(RunMsg("first"));
            stream.OnDone([this] { ended++; });
            std::lock_guard<std::mutex> l(mu);
            held.push_back(stream);
          } else if (mode == "flood") {
            stream.OnDone([this] { ended++; });
            for (int i = 0; i < 100000; ++i) {
              if (!stream.Send(RunMsg("f", 64 * 1024))) {
                flood_stopped = true;
                return;
              }
            }
          } else {
            stream.Finish(absl::InvalidArgumentError("bad mode"));
          }
        });
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.metrics = &metrics;
    opts.shutdown_grace = std::chrono::milliseconds(2000);
    opts.readiness = [this] { return ready ? absl::OkStatus() : absl::UnavailableError("database down"); };
    server = std::make_unique<flyte::rpc::Server>(&router, opts);
    server->AddHttpRoute("PUT", "/upload/", [](const flyte::rpc::HttpRequest& r) {
      return flyte::rpc::HttpResponse{201, "text/plain", "got " + std::to_string(r.body.size())};
    });
    REQUIRE(server->Start().ok());
    REQUIRE(server->port() > 0);
  }
  // Waits up to 10 s for the call to be cancelled, woken by the cancellation callback (not by polling).
  absl::Status Park(const flyte::rpc::CallContext& ctx) {
    parked++;
    std::unique_lock<std::mutex> l(park_mu);
    bool woken = false;
    auto reg = ctx.cancellation->OnCancel([&] {
      std::lock_guard<std::mutex> g(park_mu);
      woken = true;
      park_cv.notify_all();
    });
    park_cv.wait_for(l, std::chrono::seconds(10), [&] { return woken; });
    l.unlock();
    reg.Reset();
    if (ctx.cancelled()) park_cancelled++;
    parked--;
    return absl::OkStatus();
  }
  size_t held_count() {
    std::lock_guard<std::mutex> l(mu);
    return held.size();
  }

  flyte::common::WorkPool pool{"rpc-test", 4, 256};
  flyte::metrics::Registry metrics;
  flyte::rpc::Router router{&pool};
  std::unique_ptr<flyte::rpc::Server> server;
  std::atomic<bool> ready{true};
  std::atomic<int> ended{0};
  std::atomic<bool> flood_stopped{false};
  std::mutex mu;
  std::vector<flyte::rpc::ServerStream<WatchRunsResponse>> held;
  std::string last_peer, last_header;
  std::atomic<int> parked{0};
  std::atomic<int> park_cancelled{0};
  std::mutex park_mu;
  std::condition_variable park_cv;
  bool has_deadline = false;
};

template <class Pred>
bool WaitFor(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return p();
}

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string body;
  std::string allow;
};

// One HTTP/1.1 exchange on a fresh connection.
inline HttpResult Exchange(int port, http::request<http::string_body> req) {
  net::io_context io;
  beast::tcp_stream s(io);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  if (!req.chunked()) req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(s, buf, parser);
  auto& res = parser.get();
  return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
          std::string(res[http::field::content_encoding]), res.body(), std::string(res[http::field::allow])};
}

inline http::request<http::string_body> Post(const std::string& path, const std::string& content_type, std::string body) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::content_type, content_type);
  req.set("connect-protocol-version", "1");
  req.body() = std::move(body);
  return req;
}

inline std::string GetReq(const std::string& name) {
  GetRunDetailsRequest r;
  r.mutable_run_id()->set_name(name);
  return r.SerializeAsString();
}

inline std::string WatchReq(const std::string& mode) {
  WatchRunsRequest r;
  r.set_org(mode);
  return connect::MakeEnvelope(0, r.SerializeAsString());
}

struct StreamResult {
  std::vector<std::string> names;
  absl::Status end = absl::InternalError("no end frame");
  bool extra_after_end = false;
};

inline StreamResult ParseStream(std::string_view body) {
  StreamResult out;
  bool ended = false;
  while (!body.empty()) {
    auto env = connect::ParseEnvelope(body, 1 << 26);
    REQUIRE(env.ok());
    if (ended) out.extra_after_end = true;
    if (env->flags & connect::kFlagEndStream) {
      out.end = connect::ParseEndStreamJson(env->payload);
      ended = true;
    } else {
      std::string payload(env->payload);
      if (env->flags & connect::kFlagCompressed) payload = *connect::GzipInflate(payload, 1 << 26);
      WatchRunsResponse m;
      REQUIRE(m.ParseFromString(payload));
      out.names.push_back(m.runs(0).action().id().run().name());
    }
    body.remove_prefix(env->consumed);
  }
  return out;
}

}  // namespace flyte::rpc::test
