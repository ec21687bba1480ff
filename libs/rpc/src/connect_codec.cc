#include "connect_codec.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include <google/protobuf/util/json_util.h>
#include "absl/strings/escaping.h"
#include <nlohmann/json.hpp>

#include "flyte/rpc/status.h"

namespace flyte::rpc::connect {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsGzip(std::string_view encoding) { return Lower(Trim(encoding)) == "gzip"; }

}  // namespace

std::optional<ContentType> ParseContentType(std::string_view header) {
  std::string_view media = header.substr(0, header.find(';'));
  std::string m = Lower(Trim(media));
  if (m == "application/proto") return ContentType{false, Codec::kProto};
  if (m == "application/json") return ContentType{false, Codec::kJson};
  if (m == "application/connect+proto") return ContentType{true, Codec::kProto};
  if (m == "application/connect+json") return ContentType{true, Codec::kJson};
  return std::nullopt;
}

std::string ContentTypeString(ContentType ct) {
  const char* codec = ct.codec == Codec::kJson ? "json" : "proto";
  return std::string(ct.streaming ? "application/connect+" : "application/") + codec;
}

absl::StatusOr<Envelope> ParseEnvelope(std::string_view data, size_t max_payload) {
  if (data.size() < kEnvelopeHeaderSize) {
    return absl::InvalidArgumentError("truncated envelope: " + std::to_string(data.size()) + " header bytes");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  uint32_t len = (uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 8) | uint32_t{p[4]};
  if (len > max_payload) {
    return absl::ResourceExhaustedError("message size " + std::to_string(len) + " exceeds limit " +
                                        std::to_string(max_payload));
  }
  if (data.size() - kEnvelopeHeaderSize < len) {
    return absl::InvalidArgumentError("truncated envelope: declared " + std::to_string(len) + " bytes, got " +
                                      std::to_string(data.size() - kEnvelopeHeaderSize));
  }
  Envelope e;
  e.flags = p[0];
  e.payload = data.substr(kEnvelopeHeaderSize, len);
  e.consumed = kEnvelopeHeaderSize + len;
  return e;
}

std::string MakeEnvelope(uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(kEnvelopeHeaderSize + payload.size());
  uint32_t len = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((len >> 24) & 0xff));
  out.push_back(static_cast<char>((len >> 16) & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  out.push_back(static_cast<char>(len & 0xff));
  out.append(payload);
  return out;
}

absl::StatusOr<std::string> GzipInflate(std::string_view in, size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  absl::Status result;
  bool member_done = false;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof(buf) - zs.avail_out;
    if (out.size() + produced > max_out) {
      result = absl::ResourceExhaustedError("decompressed message exceeds limit " + std::to_string(max_out));
      break;
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) {
      member_done = true;
      if (zs.avail_in == 0) break;
      // Another gzip member follows (concatenated gzip is valid).
      if (inflateReset(&zs) != Z_OK) {
        result = absl::InvalidArgumentError("gzip: reset failed");
        break;
      }
      member_done = false;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      result = absl::InvalidArgumentError("gzip: unexpected end of data");
      break;
    }
    result = absl::InvalidArgumentError(std::string("gzip: ") + (zs.msg ? zs.msg : "corrupt data"));
    break;
  }
  inflateEnd(&zs);
  if (!result.ok()) return result;
  if (!member_done) return absl::InvalidArgumentError("gzip: unexpected end of data");
  return out;
}

std::string GzipDeflate(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

absl::Status CheckEncoding(std::string_view encoding) {
  std::string e = Lower(Trim(encoding));
  if (e.empty() || e == "identity" || e == "gzip") return absl::OkStatus();
  return absl::UnimplementedError("unsupported compression \"" + std::string(encoding) +
                                  "\"; supported: gzip, identity");
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    item = Trim(item.substr(0, item.find(';')));
    if (Lower(item) == "gzip") return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

absl::StatusOr<std::optional<std::chrono::milliseconds>> ParseTimeoutMs(std::string_view header) {
  if (header.empty()) return std::optional<std::chrono::milliseconds>();
  if (header.size() > 10) return absl::InvalidArgumentError("connect-timeout-ms: more than 10 digits");
  int64_t v = 0;
  for (char c : header) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("connect-timeout-ms: not a positive integer");
    v = v * 10 + (c - '0');
  }
  return std::optional<std::chrono::milliseconds>(std::chrono::milliseconds(v));
}

absl::Status CheckProtocolVersion(std::string_view header) {
  if (header.empty() || Trim(header) == "1") return absl::OkStatus();
  return absl::InvalidArgumentError("connect-protocol-version must be \"1\", got \"" + std::string(header) + "\"");
}

absl::Status DecodeMessage(std::string_view bytes, Codec codec, google::protobuf::Message* out) {
  if (codec == Codec::kProto) {
    if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
        !out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError("unmarshal " + out->GetTypeName() + ": invalid protobuf");
    }
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  // An empty JSON body means the empty message, as in connect-go.
  std::string_view trimmed = bytes;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) {
    out->Clear();
    return absl::OkStatus();
  }
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(bytes.data(), bytes.size()), out, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError("unmarshal " + out->GetTypeName() + " from JSON: " +
                                      std::string(st.message().data(), st.message().size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeMessage(const google::protobuf::Message& msg, Codec codec) {
  std::string out;
  if (codec == Codec::kProto) {
    if (!msg.SerializeToString(&out)) return absl::InternalError("marshal " + msg.GetTypeName() + " failed");
    return out;
  }
  google::protobuf::util::JsonPrintOptions opts;
  auto st = google::protobuf::util::MessageToJsonString(msg, &out, opts);
  if (!st.ok()) {
    return absl::InternalError("marshal " + msg.GetTypeName() + " to JSON: " +
                               std::string(st.message().data(), st.message().size()));
  }
  return out;
}

absl::StatusOr<std::string> EncodeEnvelopedMessage(const google::protobuf::Message& msg, Codec codec,
                                                   size_t gzip_min_bytes) {
  if (codec == Codec::kProto) {
    const size_t size = msg.ByteSizeLong();
    if (size > static_cast<size_t>(INT32_MAX)) return absl::InternalError("marshal " + msg.GetTypeName() + ": too big");
    if (gzip_min_bytes == 0 || size < gzip_min_bytes) {
      std::string frame(kEnvelopeHeaderSize + size, '\0');
      auto* p = reinterpret_cast<uint8_t*>(frame.data());
      p[1] = static_cast<uint8_t>((size >> 24) & 0xff);
      p[2] = static_cast<uint8_t>((size >> 16) & 0xff);
      p[3] = static_cast<uint8_t>((size >> 8) & 0xff);
      p[4] = static_cast<uint8_t>(size & 0xff);
      // ByteSizeLong above cached the sizes.
      msg.SerializeWithCachedSizesToArray(p + kEnvelopeHeaderSize);
      return frame;
    }
  }
  absl::StatusOr<std::string> payload = EncodeMessage(msg, codec);
  if (!payload.ok()) return payload.status();
  if (gzip_min_bytes > 0 && payload->size() >= gzip_min_bytes) {
    return MakeEnvelope(kFlagCompressed, GzipDeflate(*payload));
  }
  return MakeEnvelope(0, *payload);
}

absl::Status DecodeUnaryRequest(std::string_view body, Codec codec, std::string_view encoding, size_t max_bytes,
                                google::protobuf::Message* out) {
  if (absl::Status st = CheckEncoding(encoding); !st.ok()) return st;
  if (body.size() > max_bytes) {
    return absl::ResourceExhaustedError("message size " + std::to_string(body.size()) + " exceeds limit " +
                                        std::to_string(max_bytes));
  }
  if (IsGzip(encoding)) {
    absl::StatusOr<std::string> raw = GzipInflate(body, max_bytes);
    if (!raw.ok()) return raw.status();
    return DecodeMessage(*raw, codec, out);
  }
  return DecodeMessage(body, codec, out);
}

absl::Status DecodeStreamRequest(std::string_view body, Codec codec, std::string_view encoding, size_t max_bytes,
                                 google::protobuf::Message* out) {
  if (absl::Status st = CheckEncoding(encoding); !st.ok()) return st;
  absl::StatusOr<Envelope> env = ParseEnvelope(body, max_bytes);
  if (!env.ok()) return env.status();
  if (env->consumed != body.size()) {
    return absl::InvalidArgumentError("server streaming request must carry exactly one message");
  }
  if (env->flags & kFlagEndStream) return absl::InvalidArgumentError("unexpected end-of-stream frame in request");
  if (env->flags & ~kFlagCompressed) return absl::InvalidArgumentError("invalid envelope flags");
  if (env->flags & kFlagCompressed) {
    if (!IsGzip(encoding)) {
      return absl::InvalidArgumentError("compressed message without connect-content-encoding");
    }
    absl::StatusOr<std::string> raw = GzipInflate(env->payload, max_bytes);
    if (!raw.ok()) return raw.status();
    return DecodeMessage(*raw, codec, out);
  }
  return DecodeMessage(env->payload, codec, out);
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding of one key or value.
std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] != '%') {
      out.push_back(in[i]);
    } else {
      if (in.size() - i < 3) return std::nullopt;
      int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<GetRequest> ParseGetQuery(std::string_view query) {
  std::optional<std::string> message, encoding, base64, compression, version;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq));
    std::optional<std::string> value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key) return absl::InvalidArgumentError("query: bad percent-encoding in a parameter name");
    std::optional<std::string>* slot = *key == "message"       ? &message
                                       : *key == "encoding"    ? &encoding
                                       : *key == "base64"      ? &base64
                                       : *key == "compression" ? &compression
                                       : *key == "connect"     ? &version
                                                               : nullptr;
    if (slot == nullptr) continue;  // not ours (e.g. a cache buster)
    if (!value) return absl::InvalidArgumentError("query parameter " + *key + ": bad percent-encoding");
    if (slot->has_value()) return absl::InvalidArgumentError("query parameter " + *key + " is given twice");
    *slot = std::move(*value);
  }
  if (version && *version != "v1") {
    return absl::InvalidArgumentError("query parameter connect must be \"v1\", got \"" + *version + "\"");
  }
  GetRequest out;
  if (!encoding) return absl::InvalidArgumentError("query parameter encoding is required (proto or json)");
  if (*encoding == "proto") {
    out.codec = Codec::kProto;
  } else if (*encoding == "json") {
    out.codec = Codec::kJson;
  } else {
    return absl::InvalidArgumentError("query parameter encoding must be proto or json, got \"" + *encoding + "\"");
  }
  if (!message) return absl::InvalidArgumentError("query parameter message is required");
  if (base64 && *base64 != "1" && !base64->empty() && *base64 != "0") {
    return absl::InvalidArgumentError("query parameter base64 must be 1 or 0, got \"" + *base64 + "\"");
  }
  if (base64 && *base64 == "1") {
    std::string web_safe = std::move(*message);
    for (char& c : web_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
    if (!absl::WebSafeBase64Unescape(web_safe, &out.message)) {
      return absl::InvalidArgumentError("query parameter message is not valid base64url");
    }
  } else {
    out.message = std::move(*message);
  }
  if (compression) {
    if (absl::Status st = CheckEncoding(*compression); !st.ok()) return st;
    out.compression = std::move(*compression);
  }
  return out;
}

namespace {

nlohmann::json ErrorObject(const absl::Status& status) {
  nlohmann::json j;
  j["code"] = std::string(ConnectCodeName(status.code()));
  if (!status.message().empty()) j["message"] = std::string(status.message());
  return j;
}

std::string Dump(const nlohmann::json& j) {
  // Status messages may hold arbitrary bytes; replace invalid UTF-8 rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status StatusFromErrorObject(const nlohmann::json& e) {
  if (!e.is_object()) return absl::InternalError("error is not a JSON object");
  std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "unknown";
  std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
  absl::StatusCode c = FromConnectCodeName(code);
  if (c == absl::StatusCode::kOk) c = absl::StatusCode::kUnknown;
  return absl::Status(c, message);
}

}  // namespace

std::string ErrorJson(const absl::Status& status) { return Dump(ErrorObject(status)); }

std::string EndStreamJson(const absl::Status& status) {
  if (status.ok()) return "{}";
  nlohmann::json j;
  j["error"] = ErrorObject(status);
  return Dump(j);
}

absl::Status ParseErrorJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded()) return absl::InternalError("undecodable error JSON");
  return StatusFromErrorObject(j);
}

absl::Status ParseEndStreamJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::InternalError("undecodable end-of-stream JSON");
  if (!j.contains("error") || j["error"].is_null()) return absl::OkStatus();
  return StatusFromErrorObject(j["error"]);
}

}  // namespace flyte::rpc::connect
