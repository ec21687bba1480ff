// The real Server on 127.0.0.1 port 0, called as Connect clients do (raw HTTP/1.1), and what else the shared port
// serves: health, readiness, metrics, plain routes, garbage.
#include "server_fixture.h"

using namespace flyte::rpc::test;

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
