#include "connect_codec.h"

#include <catch2/catch.hpp>

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
