#pragma once
// Connect protocol v1 wire handling as pure functions (no sockets, no threads), so it can be unit-tested and
// fuzzed. See https://connectrpc.com/docs/protocol. Every function is thread-safe and never throws; malformed
// input yields kInvalidArgument, input beyond the size cap kResourceExhausted.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flyte::rpc::connect {

enum class Codec { kProto, kJson };

struct ContentType {
  bool streaming = false;  // application/connect+*
  Codec codec = Codec::kProto;
};

// "application/proto", "application/json" (optionally "; charset=utf-8"), "application/connect+proto",
// "application/connect+json"; case-insensitive. nullopt for anything else (the caller answers 415).
std::optional<ContentType> ParseContentType(std::string_view header);
std::string ContentTypeString(ContentType ct);

// Envelope flags.
inline constexpr uint8_t kFlagCompressed = 0x01;
inline constexpr uint8_t kFlagEndStream = 0x02;
inline constexpr size_t kEnvelopeHeaderSize = 5;

struct Envelope {
  uint8_t flags = 0;
  std::string_view payload;  // points into the parsed input
  size_t consumed = 0;       // header + payload bytes
};
// Parses one envelope at the start of `data`. kInvalidArgument if truncated; kResourceExhausted if the declared
// length exceeds `max_payload`.
absl::StatusOr<Envelope> ParseEnvelope(std::string_view data, size_t max_payload);
std::string MakeEnvelope(uint8_t flags, std::string_view payload);

// Decompresses gzip (multi-member allowed). Output beyond `max_out` bytes is kResourceExhausted (gzip bombs stop
// there, the rest is never inflated); corrupt data or trailing garbage is kInvalidArgument.
absl::StatusOr<std::string> GzipInflate(std::string_view in, size_t max_out);
std::string GzipDeflate(std::string_view in);

// Supported content encodings are "identity" (or empty) and "gzip". kUnimplemented for others.
absl::Status CheckEncoding(std::string_view encoding);
// True if an Accept-Encoding style list contains gzip.
bool AcceptsGzip(std::string_view accept_encoding);

// connect-timeout-ms: empty => nullopt (no deadline); 1..10 ASCII digits => that many ms; else kInvalidArgument.
absl::StatusOr<std::optional<std::chrono::milliseconds>> ParseTimeoutMs(std::string_view header);
// connect-protocol-version: empty or "1" is fine; anything else kInvalidArgument.
absl::Status CheckProtocolVersion(std::string_view header);

// Message codecs. JSON input ignores unknown fields and accepts proto and lowerCamelCase names; JSON output
// uses lowerCamelCase names (Connect's default).
absl::Status DecodeMessage(std::string_view bytes, Codec codec, google::protobuf::Message* out);
absl::StatusOr<std::string> EncodeMessage(const google::protobuf::Message& msg, Codec codec);
// One enveloped stream message: the encoded payload, gzip-compressed (flag 0x01) when `gzip_min_bytes` > 0 and
// the payload has at least that many bytes. Proto payloads are serialized straight into the frame (one
// allocation, no copy). Equals MakeEnvelope(flags, EncodeMessage(...)) byte for byte.
absl::StatusOr<std::string> EncodeEnvelopedMessage(const google::protobuf::Message& msg, Codec codec,
                                                   size_t gzip_min_bytes);

// Unary request body -> message. `encoding` is Content-Encoding. Size checks apply to the wire body and to the
// decompressed bytes.
absl::Status DecodeUnaryRequest(std::string_view body, Codec codec, std::string_view encoding, size_t max_bytes,
                                google::protobuf::Message* out);
// Streaming request body (exactly one enveloped message) -> message. `encoding` is Connect-Content-Encoding.
absl::Status DecodeStreamRequest(std::string_view body, Codec codec, std::string_view encoding, size_t max_bytes,
                                 google::protobuf::Message* out);

// A unary request sent as HTTP GET (Connect's side-effect-free form): the query of
// "GET /pkg.Service/Method?connect=v1&encoding=json&message=...". `message` and `encoding` (proto|json) are
// required; `base64=1` means the message is base64url (padding optional; the standard alphabet is accepted too);
// `compression` names how the message is compressed (identity|gzip, else kUnimplemented); `connect`, when given,
// must be "v1". Values are percent-decoded ('+' is a space); other parameters are ignored; a known parameter
// given twice, bad percent-escapes or bad base64 are kInvalidArgument naming the parameter. `message` holds the
// decoded bytes, still compressed if `compression` says so: DecodeUnaryRequest(message, codec, compression, ...).
struct GetRequest {
  Codec codec = Codec::kProto;
  std::string message;
  std::string compression;
};
absl::StatusOr<GetRequest> ParseGetQuery(std::string_view query);

// {"code":"not_found","message":"..."} — the unary error body.
std::string ErrorJson(const absl::Status& status);
// End-of-stream payload: {} on OK, {"error":{"code":...,"message":...}} otherwise.
std::string EndStreamJson(const absl::Status& status);
// Inverse of ErrorJson/EndStreamJson (for clients and tests); kInternal for undecodable JSON.
absl::Status ParseErrorJson(std::string_view json);
absl::Status ParseEndStreamJson(std::string_view json);

}  // namespace flyte::rpc::connect
