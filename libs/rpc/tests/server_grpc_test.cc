// The real Server on 127.0.0.1 port 0, called as gRPC clients do (typed stubs over TCP): unary, streaming,
// back-pressure, shutdown and cancellation.
#include "server_fixture.h"

using namespace flyte::rpc::test;

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
