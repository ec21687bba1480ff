// The real Server on 127.0.0.1 port 0, called as clients do: typed gRPC stubs over TCP and raw HTTP/1.1 Connect.
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

namespace {

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

constexpr char kService[] = "flyteidl2.workflow.RunService";
constexpr char kGet[] = "/flyteidl2.workflow.RunService/GetRunDetails";
constexpr char kWatch[] = "/flyteidl2.workflow.RunService/WatchRuns";

WatchRunsResponse RunMsg(const std::string& name, size_t pad = 0) {
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
HttpResult Exchange(int port, http::request<http::string_body> req) {
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

http::request<http::string_body> Post(const std::string& path, const std::string& content_type, std::string body) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::content_type, content_type);
  req.set("connect-protocol-version", "1");
  req.body() = std::move(body);
  return req;
}

std::string GetReq(const std::string& name) {
  GetRunDetailsRequest r;
  r.mutable_run_id()->set_name(name);
  return r.SerializeAsString();
}

std::string WatchReq(const std::string& mode) {
  WatchRunsRequest r;
  r.set_org(mode);
  return connect::MakeEnvelope(0, r.SerializeAsString());
}

struct StreamResult {
  std::vector<std::string> names;
  absl::Status end = absl::InternalError("no end frame");
  bool extra_after_end = false;
};

StreamResult ParseStream(std::string_view body) {
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

}  // namespace

TEST_CASE("gRPC unary over TCP through the shared port", "[api]") {
  TestServer ts;
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(ts.server->port()), grpc::InsecureChannelCredentials());
  auto stub = flyteidl2::workflow::RunService::NewStub(ch);
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-test", "hello");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    GetRunDetailsRequest req;
    req.mutable_run_id()->set_name("r1");
    GetRunDetailsResponse resp;
    grpc::Status st = stub->GetRunDetails(&ctx, req, &resp);
    REQUIRE(st.ok());
    CHECK(resp.details().action().id().run().name() == "r1");
    CHECK(ts.last_header == "hello");
    CHECK(ts.has_deadline);
    CHECK(ts.last_peer.rfind("ipv4:127.0.0.1:", 0) == 0);
  }
  {
    grpc::ClientContext ctx;
    GetRunDetailsRequest req;
    req.mutable_run_id()->set_name("missing");
    GetRunDetailsResponse resp;
    grpc::Status st = stub->GetRunDetails(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(st.error_message() == "run missing not found");
  }
  {
    grpc::ClientContext ctx;
    flyteidl2::workflow::ListRunsRequest req;
    flyteidl2::workflow::ListRunsResponse resp;
    CHECK(stub->ListRuns(&ctx, req, &resp).error_code() == grpc::StatusCode::UNIMPLEMENTED);
  }
  // Sequential unary latency, for the record (no assertion on time).
  std::vector<double> us;
  for (int i = 0; i < 2000; ++i) {
    grpc::ClientContext ctx;
    GetRunDetailsRequest req;
    req.mutable_run_id()->set_name("r");
    GetRunDetailsResponse resp;
    auto t0 = Clock::now();
    REQUIRE(stub->GetRunDetails(&ctx, req, &resp).ok());
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  WARN("gRPC sequential unary p50 " << us[us.size() / 2] << " us, p99 " << us[us.size() * 99 / 100] << " us");
  CHECK(ts.metrics.Serialize().find(
            "flyte_rpc_requests_total{code=\"NOT_FOUND\",method=\"/flyteidl2.workflow.RunService/GetRunDetails\","
            "transport=\"grpc\"} 1") != std::string::npos);
}

TEST_CASE("gRPC server streaming, in-process and over TCP", "[api]") {
  TestServer ts;
  for (auto ch : {ts.server->InProcessChannel(),
                  grpc::CreateChannel("127.0.0.1:" + std::to_string(ts.server->port()),
                                      grpc::InsecureChannelCredentials())}) {
    auto stub = flyteidl2::workflow::RunService::NewStub(ch);
    grpc::ClientContext ctx;
    WatchRunsRequest req;
    req.set_org("n=5");
    auto reader = stub->WatchRuns(&ctx, req);
    WatchRunsResponse msg;
    std::vector<std::string> names;
    while (reader->Read(&msg)) names.push_back(msg.runs(0).action().id().run().name());
    CHECK(reader->Finish().ok());
    CHECK(names == std::vector<std::string>{"run0", "run1", "run2", "run3", "run4"});
  }
  // A client cancel fires the stream's OnDone exactly once.
  auto stub = flyteidl2::workflow::RunService::NewStub(ts.server->InProcessChannel());
  {
    grpc::ClientContext ctx;
    WatchRunsRequest req;
    req.set_org("hold");
    auto reader = stub->WatchRuns(&ctx, req);
    WatchRunsResponse msg;
    REQUIRE(reader->Read(&msg));
    CHECK(msg.runs(0).action().id().run().name() == "first");
    REQUIRE(WaitFor([&] { return ts.held_count() == 1; }));
    ctx.TryCancel();
    CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  REQUIRE(WaitFor([&] { return ts.ended == 1; }));
  CHECK(ts.held[0].done());
  CHECK(!ts.held[0].Send(RunMsg("late")));
  ts.held[0].Finish(absl::OkStatus());  // ignored
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(ts.ended == 1);
}

TEST_CASE("gRPC fan-out from one thread keeps each stream in order and finishes after its writes", "[api]") {
  TestServer ts;
  constexpr int kStreams = 40, kMessages = 60;
  auto stub = flyteidl2::workflow::RunService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(ts.server->port()), grpc::InsecureChannelCredentials()));
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<grpc::ClientReader<WatchRunsResponse>>> readers;
  for (int i = 0; i < kStreams; ++i) {
    ctxs.push_back(std::make_unique<grpc::ClientContext>());
    WatchRunsRequest req;
    req.set_org("hold");
    readers.push_back(stub->WatchRuns(ctxs.back().get(), req));
  }
  REQUIRE(WaitFor([&] { return ts.held_count() == kStreams; }));
  // One publisher, as the watch hub does: every message to every stream, then Finish while writes are queued.
  for (int m = 0; m < kMessages; ++m) {
    for (auto& s : ts.held) CHECK(s.Send(RunMsg("m" + std::to_string(m))));
  }
  for (auto& s : ts.held) s.Finish(absl::OkStatus());
  for (int i = 0; i < kStreams; ++i) {
    WatchRunsResponse msg;
    std::vector<std::string> got;
    while (readers[i]->Read(&msg)) got.push_back(msg.runs(0).action().id().run().name());
    CHECK(readers[i]->Finish().ok());
    REQUIRE(got.size() == kMessages + 1);
    CHECK(got[0] == "first");
    for (int m = 0; m < kMessages; ++m) CHECK(got[m + 1] == "m" + std::to_string(m));
  }
  CHECK(WaitFor([&] { return ts.ended == kStreams; }));
}

TEST_CASE("a gRPC client that stops reading is finished with RESOURCE_EXHAUSTED", "[api]") {
  flyte::rpc::ServerOptions opts;
  opts.stream_backlog = 16;
  TestServer ts(opts);
  auto stub = flyteidl2::workflow::RunService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(ts.server->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  WatchRunsRequest req;
  req.set_org("flood");
  auto reader = stub->WatchRuns(&ctx, req);  // not read until the server gave up
  REQUIRE(WaitFor([&] { return ts.flood_stopped.load(); }));
  CHECK(WaitFor([&] { return ts.ended == 1; }));
  WatchRunsResponse msg;
  while (reader->Read(&msg)) {
  }
  grpc::Status st = reader->Finish();
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(st.error_message().find("backlog") != std::string::npos);
}

TEST_CASE("Connect unary: proto, json, gzip, chunked, errors", "[api]") {
  TestServer ts;
  int port = ts.server->port();

  SECTION("proto") {
    auto req = Post(kGet, "application/proto", GetReq("r1"));
    req.set("x-test", "conn");
    req.set("connect-timeout-ms", "5000");
    HttpResult r = Exchange(port, req);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/proto");
    GetRunDetailsResponse resp;
    REQUIRE(resp.ParseFromString(r.body));
    CHECK(resp.details().action().id().run().name() == "r1");
    CHECK(ts.last_header == "conn");
    CHECK(ts.has_deadline);
    CHECK(ts.last_peer.rfind("ipv4:127.0.0.1:", 0) == 0);
  }
  SECTION("json in both field spellings, camelCase out") {
    HttpResult r = Exchange(port, Post(kGet, "application/json", R"({"runId":{"name":"j1"},"extra":1})"));
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == R"({"details":{"action":{"id":{"run":{"name":"j1"}}}}})");
    r = Exchange(port, Post(kGet, "application/json; charset=utf-8", R"({"run_id":{"name":"j2"}})"));
    REQUIRE(r.status == 200);
    CHECK(r.body.find("j2") != std::string::npos);
  }
  SECTION("gzip request and gzip response") {
    auto req = Post(kGet, "application/proto", connect::GzipDeflate(GetReq("big")));
    req.set(http::field::content_encoding, "gzip");
    req.set(http::field::accept_encoding, "gzip");
    HttpResult r = Exchange(port, req);
    REQUIRE(r.status == 200);
    CHECK(r.content_encoding == "gzip");
    GetRunDetailsResponse resp;
    REQUIRE(resp.ParseFromString(*connect::GzipInflate(r.body, 1 << 20)));
    CHECK(resp.details().action().id().run().name() == "big");
  }
  SECTION("chunked request body") {
    auto req = Post(kGet, "application/proto", GetReq("chunky"));
    req.chunked(true);
    HttpResult r = Exchange(port, req);
    REQUIRE(r.status == 200);
    GetRunDetailsResponse resp;
    REQUIRE(resp.ParseFromString(r.body));
    CHECK(resp.details().action().id().run().name() == "chunky");
  }
  SECTION("handler error -> HTTP status + JSON") {
    HttpResult r = Exchange(port, Post(kGet, "application/proto", GetReq("missing")));
    CHECK(r.status == 404);
    CHECK(r.content_type == "application/json");
    CHECK(connect::ParseErrorJson(r.body) == absl::NotFoundError("run missing not found"));
  }
  SECTION("unsupported content type -> 415") {
    HttpResult r = Exchange(port, Post(kGet, "text/plain", "x"));
    CHECK(r.status == 415);
    r = Exchange(port, Post(kGet, "application/connect+proto", WatchReq("x")));
    CHECK(r.status == 415);
  }
  SECTION("bad gzip and undecodable body -> 400 invalid_argument") {
    auto req = Post(kGet, "application/proto", "definitely not gzip");
    req.set(http::field::content_encoding, "gzip");
    HttpResult r = Exchange(port, req);
    CHECK(r.status == 400);
    CHECK(connect::ParseErrorJson(r.body).code() == absl::StatusCode::kInvalidArgument);
    r = Exchange(port, Post(kGet, "application/proto", "\xff\xff\xff"));
    CHECK(r.status == 400);
    r = Exchange(port, Post(kGet, "application/json", "{nope"));
    CHECK(r.status == 400);
    CHECK(connect::ParseErrorJson(r.body).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("unknown method -> 404 unimplemented; wrong verb -> 405") {
    HttpResult r = Exchange(port, Post("/flyteidl2.workflow.RunService/Nope", "application/proto", ""));
    CHECK(r.status == 404);
    CHECK(connect::ParseErrorJson(r.body).code() == absl::StatusCode::kUnimplemented);
    r = Exchange(port, http::request<http::string_body>{http::verb::get, kWatch, 11});
    CHECK(r.status == 405);
    CHECK(r.allow == "POST");
    r = Exchange(port, http::request<http::string_body>{http::verb::put, kGet, 11});
    CHECK(r.status == 405);
    CHECK(r.allow == "GET, POST");
  }
  SECTION("bad timeout header -> 400") {
    auto req = Post(kGet, "application/proto", GetReq("r"));
    req.set("connect-timeout-ms", "soon");
    CHECK(Exchange(port, req).status == 400);
  }
  SECTION("keep-alive: many requests on one connection, sequential p50") {
    net::io_context io;
    beast::tcp_stream s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    beast::flat_buffer buf;
    std::vector<double> us;
    for (int i = 0; i < 2000; ++i) {
      auto req = Post(kGet, "application/proto", GetReq("k"));
      req.set(http::field::host, "x");
      req.prepare_payload();
      auto t0 = Clock::now();
      http::write(s, req);
      http::response<http::string_body> res;
      http::read(s, buf, res);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      REQUIRE(res.result_int() == 200);
    }
    std::sort(us.begin(), us.end());
    WARN("Connect sequential unary p50 " << us[us.size() / 2] << " us, p99 " << us[us.size() * 99 / 100] << " us");
  }
}

TEST_CASE("Connect GET for side-effect-free unary methods", "[api]") {
  TestServer ts;
  int port = ts.server->port();
  REQUIRE(ts.router.Find(kGet)->no_side_effects);  // GetRunDetails is NO_SIDE_EFFECTS in flyteidl2
  CHECK(!ts.router.Find(kWatch)->no_side_effects);
  auto get = [&](const std::string& query) {
    http::request<http::string_body> req{http::verb::get, std::string(kGet) + "?" + query, 11};
    return Exchange(port, req);
  };

  SECTION("json, percent-encoded") {
    HttpResult r = get("connect=v1&encoding=json&message=%7B%22runId%22%3A%7B%22name%22%3A%22g1%22%7D%7D");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == R"({"details":{"action":{"id":{"run":{"name":"g1"}}}}})");
  }
  SECTION("proto, base64url, gzip both ways") {
    HttpResult r = get("connect=v1&encoding=proto&base64=1&message=CgQiAnIx");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/proto");
    GetRunDetailsResponse resp;
    REQUIRE(resp.ParseFromString(r.body));
    CHECK(resp.details().action().id().run().name() == "r1");

    std::string b64 = absl::WebSafeBase64Escape(connect::GzipDeflate(GetReq("big")));  // no padding
    http::request<http::string_body> req{
        http::verb::get, std::string(kGet) + "?encoding=proto&base64=1&compression=gzip&message=" + b64, 11};
    req.set(http::field::accept_encoding, "gzip");
    r = Exchange(port, req);
    REQUIRE(r.status == 200);
    CHECK(r.content_encoding == "gzip");
    REQUIRE(resp.ParseFromString(*connect::GzipInflate(r.body, 1 << 20)));
    CHECK(resp.details().action().id().run().name() == "big");
  }
  SECTION("errors are Connect JSON errors") {
    HttpResult r = get("encoding=json&message=%7B%22runId%22%3A%7B%22name%22%3A%22missing%22%7D%7D");
    CHECK(r.status == 404);
    CHECK(connect::ParseErrorJson(r.body) == absl::NotFoundError("run missing not found"));
    r = get("message=%7B%7D");
    CHECK(r.status == 400);
    absl::Status st = connect::ParseErrorJson(r.body);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message().find("encoding") != std::string::npos);
    r = get("connect=v1&encoding=proto&base64=1&message=%21%21");
    CHECK(r.status == 400);
    r = get("encoding=proto&message=%FF%FF%FF");
    CHECK(r.status == 400);
    r = Exchange(port, http::request<http::string_body>{http::verb::get, kGet, 11});  // no query at all
    CHECK(r.status == 400);
  }
  SECTION("counted in the metrics like a POST") {
    REQUIRE(get("encoding=json&message=%7B%7D").status == 200);
    CHECK(ts.metrics.Serialize().find("method=\"/flyteidl2.workflow.RunService/GetRunDetails\"") !=
          std::string::npos);
  }
}

TEST_CASE("Connect limits: oversize messages", "[api]") {
  flyte::rpc::ServerOptions opts;
  opts.max_message_bytes = 1024;
  TestServer ts(opts);
  int port = ts.server->port();
  GetRunDetailsRequest big;
  big.mutable_run_id()->set_name(std::string(4000, 'n'));
  // Too big on the wire, too big once decompressed (a small gzip bomb), too big far beyond the body limit.
  HttpResult r = Exchange(port, Post(kGet, "application/proto", big.SerializeAsString()));
  CHECK(r.status == 429);
  CHECK(connect::ParseErrorJson(r.body).code() == absl::StatusCode::kResourceExhausted);
  auto req = Post(kGet, "application/proto", connect::GzipDeflate(big.SerializeAsString()));
  req.set(http::field::content_encoding, "gzip");
  r = Exchange(port, req);
  CHECK(r.status == 429);
  r = Exchange(port, Post(kGet, "application/proto", std::string(200000, 'z')));
  CHECK(r.status == 429);
  // Streaming: oversize envelope -> end frame with resource_exhausted.
  WatchRunsRequest w;
  w.set_org(std::string(4000, 'o'));
  r = Exchange(port, Post(kWatch, "application/connect+proto", connect::MakeEnvelope(0, w.SerializeAsString())));
  CHECK(r.status == 200);
  CHECK(ParseStream(r.body).end.code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("Connect server streaming", "[api]") {
  TestServer ts;
  int port = ts.server->port();

  SECTION("envelopes then end frame, proto") {
    HttpResult r = Exchange(port, Post(kWatch, "application/connect+proto", WatchReq("n=3")));
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/connect+proto");
    StreamResult s = ParseStream(r.body);
    CHECK(s.names == std::vector<std::string>{"run0", "run1", "run2"});
    CHECK(s.end.ok());
    CHECK(!s.extra_after_end);
  }
  SECTION("gzip-compressed, chunked request; json codec") {
    WatchRunsRequest w;
    w.set_org("n=2");
    auto req = Post(kWatch, "application/connect+proto",
                    connect::MakeEnvelope(connect::kFlagCompressed, connect::GzipDeflate(w.SerializeAsString())));
    req.set("connect-content-encoding", "gzip");
    req.set("connect-accept-encoding", "gzip");
    req.chunked(true);
    HttpResult r = Exchange(port, req);
    REQUIRE(r.status == 200);
    StreamResult s = ParseStream(r.body);
    CHECK(s.names.size() == 2);
    CHECK(s.end.ok());

    r = Exchange(port, Post(kWatch, "application/connect+json", connect::MakeEnvelope(0, R"({"org":"n=1"})")));
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/connect+json");
    auto env = connect::ParseEnvelope(r.body, 1 << 20);
    REQUIRE(env.ok());
    CHECK(std::string(env->payload).find("\"run0\"") != std::string::npos);
  }
  SECTION("errors in the end frame") {
    HttpResult r = Exchange(port, Post(kWatch, "application/connect+proto", WatchReq("bogus")));
    REQUIRE(r.status == 200);
    CHECK(ParseStream(r.body).end == absl::InvalidArgumentError("bad mode"));
    std::string env = WatchReq("n=1");
    r = Exchange(port, Post(kWatch, "application/connect+proto", env.substr(0, env.size() - 2)));
    REQUIRE(r.status == 200);
    CHECK(ParseStream(r.body).end.code() == absl::StatusCode::kInvalidArgument);
    r = Exchange(port, Post(kWatch, "application/connect+proto", "\x00\x00"));
    CHECK(ParseStream(r.body).end.code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("client going away fires OnDone") {
    {
      net::io_context io;
      tcp::socket sock(io);
      sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
      auto req = Post(kWatch, "application/connect+proto", WatchReq("hold"));
      req.set(http::field::host, "x");
      req.prepare_payload();
      http::write(sock, req);
      REQUIRE(WaitFor([&] { return ts.held_count() == 1; }));
    }  // socket closed
    REQUIRE(WaitFor([&] { return ts.ended == 1; }));
    CHECK(ts.held[0].done());
  }
}

TEST_CASE("a slow stream reader blocks neither other clients nor the sender", "[api]") {
  flyte::rpc::ServerOptions opts;
  opts.stream_backlog = 16;
  TestServer ts(opts);
  int port = ts.server->port();
  net::io_context io;
  tcp::socket sock(io);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  auto req = Post(kWatch, "application/connect+proto", WatchReq("flood"));
  req.set(http::field::host, "x");
  req.prepare_payload();
  http::write(sock, req);  // and never read
  // The handler's Send starts failing once the backlog is full; the stream is over.
  REQUIRE(WaitFor([&] { return ts.flood_stopped.load(); }));
  CHECK(WaitFor([&] { return ts.ended == 1; }));
  // Meanwhile unary calls on other connections are fine, over both transports.
  auto t0 = Clock::now();
  HttpResult r = Exchange(port, Post(kGet, "application/proto", GetReq("other")));
  CHECK(r.status == 200);
  auto stub = flyteidl2::workflow::RunService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  GetRunDetailsRequest greq;
  GetRunDetailsResponse gresp;
  CHECK(stub->GetRunDetails(&ctx, greq, &gresp).ok());
  CHECK(Clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("health, readiness, metrics and plain routes", "[api]") {
  TestServer ts;
  int port = ts.server->port();
  HttpResult r = Exchange(port, {http::verb::get, "/healthz", 11});
  CHECK(r.status == 200);
  CHECK(r.body == "ok\n");
  r = Exchange(port, {http::verb::get, "/readyz", 11});
  CHECK(r.status == 200);
  ts.ready = false;
  r = Exchange(port, {http::verb::get, "/readyz", 11});
  CHECK(r.status == 503);
  CHECK(r.body.find("database down") != std::string::npos);
  Exchange(port, Post(kGet, "application/proto", GetReq("m")));
  r = Exchange(port, {http::verb::get, "/metrics", 11});
  CHECK(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("flyte_rpc_requests_total{code=\"OK\",method=\"/flyteidl2.workflow.RunService/GetRunDetails\","
                    "transport=\"connect\"} 1") != std::string::npos);
  http::request<http::string_body> put{http::verb::put, "/upload/a/b", 11};
  put.body() = "12345";
  r = Exchange(port, put);
  CHECK(r.status == 201);
  CHECK(r.body == "got 5");
  r = Exchange(port, {http::verb::get, "/nothing", 11});
  CHECK(r.status == 404);
}

TEST_CASE("garbage and silence on the port do not hurt the server", "[api]") {
  flyte::rpc::ServerOptions opts;
  opts.sniff_timeout = std::chrono::milliseconds(200);
  TestServer ts(opts);
  int port = ts.server->port();
  net::io_context io;
  tcp::socket silent(io), garbage(io), half_preface(io);
  auto ep = tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  silent.connect(ep);
  garbage.connect(ep);
  half_preface.connect(ep);
  net::write(garbage, net::buffer(std::string("\x16\x03\x01\x00\xff garbage\r\n\r\n")));
  net::write(half_preface, net::buffer(std::string("PRI * HTTP/2.0\r\n")));
  char c;
  beast::error_code ec;
  silent.read_some(net::buffer(&c, 1), ec);  // closed by the sniff deadline
  CHECK(ec);
  CHECK(Exchange(port, {http::verb::get, "/healthz", 11}).status == 200);
}

TEST_CASE("Shutdown ends open streams on both transports", "[api]") {
  auto ts = std::make_unique<TestServer>();
  int port = ts->server->port();
  net::io_context io;
  tcp::socket sock(io);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  auto req = Post(kWatch, "application/connect+proto", WatchReq("hold"));
  req.set(http::field::host, "x");
  req.prepare_payload();
  http::write(sock, req);

  auto stub = flyteidl2::workflow::RunService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  WatchRunsRequest wreq;
  wreq.set_org("hold");
  auto reader = stub->WatchRuns(&ctx, wreq);
  WatchRunsResponse msg;
  REQUIRE(reader->Read(&msg));
  REQUIRE(WaitFor([&] { return ts->held_count() == 2; }));

  auto t0 = Clock::now();
  ts->server->Shutdown();
  CHECK(Clock::now() - t0 < std::chrono::seconds(3));
  CHECK(ts->ended == 2);
  while (reader->Read(&msg)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);

  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  beast::error_code ec;
  http::read(sock, buf, parser, ec);
  REQUIRE(!ec);
  StreamResult s = ParseStream(parser.get().body());
  CHECK(s.names == std::vector<std::string>{"first"});
  CHECK(s.end.code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("CallCancellation runs callbacks once and honours registrations", "[api][cancel]") {
  flyte::rpc::CallCancellation c;
  int a = 0, b = 0;
  auto ra = c.OnCancel([&] { a++; });
  {
    auto rb = c.OnCancel([&] { b++; });
  }  // unregistered
  CHECK_FALSE(c.cancelled());
  c.Cancel();
  c.Cancel();
  CHECK(c.cancelled());
  CHECK(a == 1);
  CHECK(b == 0);
  int late = 0;
  auto rl = c.OnCancel([&] { late++; });  // already cancelled: runs at once
  CHECK(late == 1);
  flyte::rpc::CallContext ctx;
  CHECK_FALSE(ctx.cancelled());
  ctx.deadline = Clock::now() - std::chrono::milliseconds(1);
  CHECK(ctx.cancelled());
}

TEST_CASE("a handler learns that its gRPC call was cancelled", "[api][cancel]") {
  TestServer ts;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(ts.server->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = flyteidl2::workflow::RunService::NewStub(channel);
  grpc::ClientContext ctx;
  GetRunDetailsRequest req;
  req.mutable_run_id()->set_name("park");
  GetRunDetailsResponse resp;
  std::promise<grpc::Status> done;
  stub->async()->GetRunDetails(&ctx, &req, &resp, [&](grpc::Status st) { done.set_value(st); });
  REQUIRE(WaitFor([&] { return ts.parked.load() == 1; }));
  const auto t0 = Clock::now();
  ctx.TryCancel();
  CHECK(done.get_future().get().error_code() == grpc::StatusCode::CANCELLED);
  REQUIRE(WaitFor([&] { return ts.parked.load() == 0; }, std::chrono::milliseconds(2000)));
  CHECK(Clock::now() - t0 < std::chrono::seconds(2));
  CHECK(ts.park_cancelled.load() == 1);
}

TEST_CASE("a handler learns that its Connect client left or timed out", "[api][cancel]") {
  TestServer ts;
  const int port = ts.server->port();
  SECTION("client closes the connection") {
    net::io_context io;
    beast::tcp_stream s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    auto req = Post(kGet, "application/proto", GetReq("park"));
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    http::write(s, req);
    REQUIRE(WaitFor([&] { return ts.parked.load() == 1; }));
    s.close();
    REQUIRE(WaitFor([&] { return ts.parked.load() == 0; }, std::chrono::milliseconds(2000)));
    CHECK(ts.park_cancelled.load() == 1);
  }
  SECTION("connect-timeout-ms elapses") {
    auto req = Post(kGet, "application/proto", GetReq("park"));
    req.set("connect-timeout-ms", "300");
    const auto t0 = Clock::now();
    HttpResult r = Exchange(port, req);
    CHECK(Clock::now() - t0 < std::chrono::seconds(2));
    CHECK(r.status == 200);  // the handler's own answer; the client has given up by then anyway
    CHECK(ts.park_cancelled.load() == 1);
  }
  SECTION("a normal call is not cancelled and the connection stays usable") {
    net::io_context io;
    beast::tcp_stream s(io);
    s.expires_after(std::chrono::seconds(10));
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    for (const char* name : {"slow", "r2"}) {
      auto req = Post(kGet, "application/proto", GetReq(name));
      req.version(11);
      req.set(http::field::host, "127.0.0.1");
      req.prepare_payload();
      http::write(s, req);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      http::read(s, buf, res);
      CHECK(res.result_int() == 200);
    }
    CHECK(ts.park_cancelled.load() == 0);
  }
}
