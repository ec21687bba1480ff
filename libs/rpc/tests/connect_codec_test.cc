#include "connect_codec.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "flyte/rpc/in_band_status.h"
#include "flyte/rpc/status.h"
#include "flyteidl2/workflow/run_service.pb.h"

namespace connect = flyte::rpc::connect;
using flyteidl2::workflow::GetRunDetailsRequest;

TEST_CASE("content types", "[unit]") {
  auto ct = connect::ParseContentType("application/proto");
  REQUIRE(ct);
  CHECK(!ct->streaming);
  CHECK(ct->codec == connect::Codec::kProto);
  ct = connect::ParseContentType("Application/JSON; charset=utf-8");
  REQUIRE(ct);
  CHECK(ct->codec == connect::Codec::kJson);
  ct = connect::ParseContentType("application/connect+json");
  REQUIRE(ct);
  CHECK(ct->streaming);
  CHECK(connect::ContentTypeString(*ct) == "application/connect+json");
  CHECK(!connect::ParseContentType("text/plain"));
  CHECK(!connect::ParseContentType("application/grpc"));
  CHECK(!connect::ParseContentType(""));
}

TEST_CASE("envelopes round trip and reject truncation", "[unit]") {
  std::string e = connect::MakeEnvelope(connect::kFlagEndStream, "{}");
  REQUIRE(e.size() == 7);
  auto env = connect::ParseEnvelope(e, 100);
  REQUIRE(env.ok());
  CHECK(env->flags == connect::kFlagEndStream);
  CHECK(env->payload == "{}");
  CHECK(env->consumed == 7);
  CHECK(connect::ParseEnvelope(e.substr(0, 4), 100).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(connect::ParseEnvelope(e.substr(0, 6), 100).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(connect::ParseEnvelope(e, 1).status().code() == absl::StatusCode::kResourceExhausted);
  std::string big("\x00\xff\xff\xff\xff", 5);
  CHECK(connect::ParseEnvelope(big, 1 << 20).status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("gzip inflate with a cap", "[unit]") {
  std::string data(100000, 'a');
  std::string gz = connect::GzipDeflate(data);
  CHECK(gz.size() < 1000);
  auto out = connect::GzipInflate(gz, 200000);
  REQUIRE(out.ok());
  CHECK(*out == data);
  // A bomb stops at the cap.
  CHECK(connect::GzipInflate(gz, 99999).status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(connect::GzipInflate("not gzip at all", 1000).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(connect::GzipInflate(gz.substr(0, gz.size() / 2), 200000).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(connect::GzipInflate(gz + "junk", 200000).status().code() == absl::StatusCode::kInvalidArgument);
  auto two = connect::GzipInflate(connect::GzipDeflate("ab") + connect::GzipDeflate("cd"), 100);
  REQUIRE(two.ok());
  CHECK(*two == "abcd");
  CHECK(connect::GzipInflate("", 10).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("timeout, version and encoding headers", "[unit]") {
  auto t = connect::ParseTimeoutMs("");
  REQUIRE(t.ok());
  CHECK(!t->has_value());
  t = connect::ParseTimeoutMs("1500");
  REQUIRE(t.ok());
  CHECK(**t == std::chrono::milliseconds(1500));
  CHECK(!connect::ParseTimeoutMs("-1").ok());
  CHECK(!connect::ParseTimeoutMs("12345678901").ok());
  CHECK(!connect::ParseTimeoutMs("1.5").ok());
  CHECK(connect::CheckProtocolVersion("1").ok());
  CHECK(connect::CheckProtocolVersion("").ok());
  CHECK(!connect::CheckProtocolVersion("2").ok());
  CHECK(connect::CheckEncoding("gzip").ok());
  CHECK(connect::CheckEncoding("identity").ok());
  CHECK(connect::CheckEncoding("br").code() == absl::StatusCode::kUnimplemented);
  CHECK(connect::AcceptsGzip("br, gzip;q=0.5"));
  CHECK(!connect::AcceptsGzip("identity"));
}

TEST_CASE("unary and stream request decoding", "[unit]") {
  GetRunDetailsRequest req;
  req.mutable_run_id()->set_name("r1");
  req.mutable_run_id()->set_project("p");
  std::string bin = req.SerializeAsString();

  GetRunDetailsRequest out;
  REQUIRE(connect::DecodeUnaryRequest(bin, connect::Codec::kProto, "", 1024, &out).ok());
  CHECK(out.run_id().name() == "r1");
  out.Clear();
  REQUIRE(connect::DecodeUnaryRequest(connect::GzipDeflate(bin), connect::Codec::kProto, "gzip", 1024, &out).ok());
  CHECK(out.run_id().name() == "r1");
  CHECK(connect::DecodeUnaryRequest(bin, connect::Codec::kProto, "", 3, &out).code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(connect::DecodeUnaryRequest("\xff\xff", connect::Codec::kProto, "", 1024, &out).code() ==
        absl::StatusCode::kInvalidArgument);

  out.Clear();
  REQUIRE(connect::DecodeUnaryRequest(R"({"runId":{"name":"j1"},"unknownField":3})", connect::Codec::kJson, "",
                                      1024, &out)
              .ok());
  CHECK(out.run_id().name() == "j1");
  out.Clear();
  REQUIRE(connect::DecodeUnaryRequest(R"({"run_id":{"name":"j2"}})", connect::Codec::kJson, "", 1024, &out).ok());
  CHECK(out.run_id().name() == "j2");
  CHECK(connect::DecodeUnaryRequest("{not json", connect::Codec::kJson, "", 1024, &out).code() ==
        absl::StatusCode::kInvalidArgument);

  auto json = connect::EncodeMessage(req, connect::Codec::kJson);
  REQUIRE(json.ok());
  CHECK(json->find("\"runId\"") != std::string::npos);

  out.Clear();
  REQUIRE(connect::DecodeStreamRequest(connect::MakeEnvelope(0, bin), connect::Codec::kProto, "", 1024, &out).ok());
  CHECK(out.run_id().name() == "r1");
  out.Clear();
  REQUIRE(connect::DecodeStreamRequest(connect::MakeEnvelope(1, connect::GzipDeflate(bin)), connect::Codec::kProto,
                                       "gzip", 1024, &out)
              .ok());
  CHECK(out.run_id().name() == "r1");
  std::string env = connect::MakeEnvelope(0, bin);
  CHECK(connect::DecodeStreamRequest(env.substr(0, env.size() - 1), connect::Codec::kProto, "", 1024, &out).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(connect::DecodeStreamRequest(env + env, connect::Codec::kProto, "", 1024, &out).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(connect::DecodeStreamRequest(connect::MakeEnvelope(1, bin), connect::Codec::kProto, "", 1024, &out).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("error JSON", "[unit]") {
  absl::Status st = absl::NotFoundError("run \"x\" not found");
  std::string j = connect::ErrorJson(st);
  CHECK(j == R"({"code":"not_found","message":"run \"x\" not found"})");
  CHECK(connect::ParseErrorJson(j) == st);
  CHECK(connect::EndStreamJson(absl::OkStatus()) == "{}");
  CHECK(connect::ParseEndStreamJson("{}").ok());
  std::string end = connect::EndStreamJson(absl::UnavailableError("bye"));
  CHECK(end == R"({"error":{"code":"unavailable","message":"bye"}})");
  CHECK(connect::ParseEndStreamJson(end) == absl::UnavailableError("bye"));
  // Invalid UTF-8 in a message must not throw.
  CHECK(!connect::ErrorJson(absl::InternalError("\xff\xfe")).empty());
}

TEST_CASE("status mapping", "[unit]") {
  using flyte::rpc::ConnectCodeName;
  using flyte::rpc::ConnectHttpStatus;
  struct Row {
    absl::StatusCode code;
    const char* name;
    int http;
  };
  const Row rows[] = {
      {absl::StatusCode::kCancelled, "canceled", 499},
      {absl::StatusCode::kUnknown, "unknown", 500},
      {absl::StatusCode::kInvalidArgument, "invalid_argument", 400},
      {absl::StatusCode::kDeadlineExceeded, "deadline_exceeded", 504},
      {absl::StatusCode::kNotFound, "not_found", 404},
      {absl::StatusCode::kAlreadyExists, "already_exists", 409},
      {absl::StatusCode::kPermissionDenied, "permission_denied", 403},
      {absl::StatusCode::kResourceExhausted, "resource_exhausted", 429},
      {absl::StatusCode::kFailedPrecondition, "failed_precondition", 400},
      {absl::StatusCode::kAborted, "aborted", 409},
      {absl::StatusCode::kOutOfRange, "out_of_range", 400},
      {absl::StatusCode::kUnimplemented, "unimplemented", 501},
      {absl::StatusCode::kInternal, "internal", 500},
      {absl::StatusCode::kUnavailable, "unavailable", 503},
      {absl::StatusCode::kDataLoss, "data_loss", 500},
      {absl::StatusCode::kUnauthenticated, "unauthenticated", 401},
  };
  for (const Row& r : rows) {
    CHECK(ConnectCodeName(r.code) == r.name);
    CHECK(ConnectHttpStatus(r.code) == r.http);
    CHECK(flyte::rpc::FromConnectCodeName(r.name) == r.code);
    absl::Status s(r.code, "m");
    grpc::Status g = flyte::rpc::ToGrpcStatus(s);
    CHECK(static_cast<int>(g.error_code()) == static_cast<int>(r.code));
    CHECK(g.error_message() == "m");
    CHECK(flyte::rpc::FromGrpcStatus(g) == s);
  }
  CHECK(flyte::rpc::FromConnectCodeName("bogus") == absl::StatusCode::kUnknown);
  CHECK(flyte::rpc::ToGrpcStatus(absl::OkStatus()).ok());
}

TEST_CASE("in-band statuses of a batch answer", "[unit]") {
  using flyte::rpc::FromRpcStatus;
  using flyte::rpc::ToRpcStatus;
  CHECK(FromRpcStatus(ToRpcStatus(absl::NotFoundError("action r/a0"))) == absl::NotFoundError("action r/a0"));
  CHECK(FromRpcStatus(ToRpcStatus(absl::OkStatus())).ok());
  google::rpc::Status odd;
  odd.set_code(99);
  odd.set_message("from the future");
  CHECK(FromRpcStatus(odd) == absl::UnknownError("from the future"));

  google::protobuf::RepeatedPtrField<google::rpc::Status> answer;
  *answer.Add() = ToRpcStatus(absl::OkStatus());
  *answer.Add() = ToRpcStatus(absl::FailedPreconditionError("terminal"));
  absl::StatusOr<std::vector<absl::Status>> items = flyte::rpc::FromRpcStatuses(answer, 2, "queue-service", "enqueues");
  REQUIRE(items.ok());
  CHECK((*items)[0].ok());
  CHECK((*items)[1] == absl::FailedPreconditionError("terminal"));
  absl::StatusOr<std::vector<absl::Status>> short_answer =
      flyte::rpc::FromRpcStatuses(answer, 3, "queue-service", "enqueues");
  CHECK(short_answer.status() == absl::InternalError("queue-service answered 2 outcomes for 3 enqueues"));
}

TEST_CASE("EncodeEnvelopedMessage matches MakeEnvelope(EncodeMessage)", "[unit]") {
  flyteidl2::workflow::WatchRunsRequest m;
  m.set_org(std::string(3000, 'o'));
  for (connect::Codec codec : {connect::Codec::kProto, connect::Codec::kJson}) {
    for (size_t gzip_min : {size_t{0}, size_t{1024}, size_t{100000}}) {
      auto payload = connect::EncodeMessage(m, codec);
      REQUIRE(payload.ok());
      auto frame = connect::EncodeEnvelopedMessage(m, codec, gzip_min);
      REQUIRE(frame.ok());
      bool compress = gzip_min > 0 && payload->size() >= gzip_min;
      auto env = connect::ParseEnvelope(*frame, 1 << 20);
      REQUIRE(env.ok());
      CHECK(env->consumed == frame->size());
      CHECK(env->flags == (compress ? connect::kFlagCompressed : 0));
      if (compress) {
        CHECK(*connect::GzipInflate(env->payload, 1 << 20) == *payload);
      } else {
        CHECK(*frame == connect::MakeEnvelope(0, *payload));
      }
    }
  }
  flyteidl2::workflow::WatchRunsRequest empty;
  CHECK(*connect::EncodeEnvelopedMessage(empty, connect::Codec::kProto, 0) == connect::MakeEnvelope(0, ""));
}

TEST_CASE("GET query parsing", "[unit]") {
  auto get =
      connect::ParseGetQuery("connect=v1&encoding=json&message=%7B%22runId%22%3A%7B%22name%22%3A%22a+b%22%7D%7D");
  REQUIRE(get.ok());
  CHECK(get->codec == connect::Codec::kJson);
  CHECK(get->message == R"({"runId":{"name":"a b"}})");
  CHECK(get->compression.empty());

  GetRunDetailsRequest req;
  req.mutable_run_id()->set_name("r1");
  const std::string bytes = req.SerializeAsString();  // 6 bytes: base64 without padding is 8 chars either way
  std::string padded = "CgQiAnIx";
  REQUIRE(bytes == std::string("\x0a\x04\x22\x02r1", 6));
  for (const std::string& q :
       std::vector<std::string>{"encoding=proto&base64=1&message=" + padded, "message=CgQiAnIx&base64=1&encoding=proto&x=y"}) {
    get = connect::ParseGetQuery(q);
    REQUIRE(get.ok());
    CHECK(get->codec == connect::Codec::kProto);
    CHECK(get->message == bytes);
  }
  // 5 bytes need padding: accepted with and without it, url-safe and standard alphabet.
  get = connect::ParseGetQuery("encoding=proto&base64=1&message=_-8A_w");
  REQUIRE(get.ok());
  CHECK(get->message == std::string("\xff\xef\x00\xff", 4));
  get = connect::ParseGetQuery("encoding=proto&base64=1&message=_-8A_w%3D%3D");
  REQUIRE(get.ok());
  CHECK(get->message == std::string("\xff\xef\x00\xff", 4));
  get = connect::ParseGetQuery("encoding=proto&base64=1&message=%2F%2B8A%2Fw");
  REQUIRE(get.ok());
  CHECK(get->message == std::string("\xff\xef\x00\xff", 4));

  // Compressed: decoded with DecodeUnaryRequest like a POST body.
  std::string gz = connect::GzipDeflate(bytes);
  std::string b64;
  for (unsigned char c : gz) b64 += "%" + std::string(1, "0123456789ABCDEF"[c >> 4]) + "0123456789ABCDEF"[c & 15];
  get = connect::ParseGetQuery("encoding=proto&compression=gzip&message=" + b64);
  REQUIRE(get.ok());
  CHECK(get->compression == "gzip");
  GetRunDetailsRequest back;
  REQUIRE(connect::DecodeUnaryRequest(get->message, get->codec, get->compression, 1024, &back).ok());
  CHECK(back.run_id().name() == "r1");

  auto code_and_message = [](std::string_view q) {
    auto r = connect::ParseGetQuery(q);
    REQUIRE(!r.ok());
    return std::make_pair(r.status().code(), std::string(r.status().message()));
  };
  auto [c1, m1] = code_and_message("message=%7B%7D");
  CHECK(c1 == absl::StatusCode::kInvalidArgument);
  CHECK(m1.find("encoding") != std::string::npos);
  auto [c2, m2] = code_and_message("encoding=json");
  CHECK(c2 == absl::StatusCode::kInvalidArgument);
  CHECK(m2.find("message") != std::string::npos);
  auto [c3, m3] = code_and_message("encoding=xml&message=");
  CHECK(m3.find("proto or json") != std::string::npos);
  auto [c4, m4] = code_and_message("connect=v2&encoding=json&message=");
  CHECK(m4.find("v1") != std::string::npos);
  auto [c5, m5] = code_and_message("encoding=json&message=%7&x");
  CHECK(m5.find("message") != std::string::npos);
  auto [c6, m6] = code_and_message("encoding=json&message=a&message=b");
  CHECK(m6.find("twice") != std::string::npos);
  auto [c7, m7] = code_and_message("encoding=proto&base64=1&message=!!!");
  CHECK(m7.find("base64") != std::string::npos);
  auto [c8, m8] = code_and_message("encoding=proto&compression=br&message=");
  CHECK(c8 == absl::StatusCode::kUnimplemented);
  // An empty message is the empty request.
  get = connect::ParseGetQuery("encoding=proto&message=");
  REQUIRE(get.ok());
  CHECK(get->message.empty());
}
