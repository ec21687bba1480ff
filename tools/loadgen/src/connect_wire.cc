#include "connect_wire.h"

#include <array>

#include <nlohmann/json.hpp>

namespace flyte::loadgen {
namespace {

constexpr std::array<std::string_view, 17> kConnectNames = {
    "ok",           "canceled",  "unknown",           "invalid_argument", "deadline_exceeded", "not_found",
    "already_exists", "permission_denied", "resource_exhausted", "failed_precondition", "aborted",
    "out_of_range", "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated"};

constexpr std::array<std::string_view, 17> kGrpcNames = {
    "OK",           "CANCELLED", "UNKNOWN",           "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

std::string Truncate(std::string_view s, size_t n = 200) {
  return std::string(s.substr(0, n));
}

}  // namespace

std::string CodeName(int code) {
  if (code >= 0 && code < static_cast<int>(kGrpcNames.size())) return std::string(kGrpcNames[code]);
  return "CODE_" + std::to_string(code);
}

int CodeFromConnectName(std::string_view name) {
  for (size_t i = 0; i < kConnectNames.size(); ++i) {
    if (kConnectNames[i] == name) return static_cast<int>(i);
  }
  if (name == "cancelled") return 1;
  return kUnknown;
}

int CodeFromHttpStatus(int http_status) {
  // The Connect spec's table for error responses without a usable JSON body.
  switch (http_status) {
    case 400: return kInternal;
    case 401: return 16;  // unauthenticated
    case 403: return 7;   // permission_denied
    case 404: return 12;  // unimplemented
    case 429: case 502: case 503: case 504: return kUnavailable;
    default: return kUnknown;
  }
}

CallResult ParseConnectError(int http_status, std::string_view body) {
  CallResult r;
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("code") && j["code"].is_string()) {
    r.code = CodeFromConnectName(j["code"].get<std::string>());
    if (j.contains("message") && j["message"].is_string()) r.message = j["message"].get<std::string>();
    return r;
  }
  r.code = CodeFromHttpStatus(http_status);
  r.message = "HTTP " + std::to_string(http_status) + ": " + Truncate(body);
  return r;
}

std::string Envelope(std::string_view payload, uint8_t flags) {
  std::string out;
  out.reserve(payload.size() + 5);
  const uint32_t n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
  return out;
}

bool EnvelopeParser::Feed(std::string_view bytes, std::vector<Frame>* out) {
  if (error_) return false;
  buf_.append(bytes);
  while (buf_.size() - pos_ >= 5) {
    const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
    const uint32_t n = (uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 8) | uint32_t{p[4]};
    if (n > max_frame_) {
      error_ = true;
      return false;
    }
    if (buf_.size() - pos_ < 5 + size_t{n}) break;
    Frame f;
    f.flags = p[0];
    f.payload.assign(buf_, pos_ + 5, n);
    out->push_back(std::move(f));
    pos_ += 5 + size_t{n};
  }
  // Compact once the consumed prefix dominates, so long streams do not grow the buffer without bound.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 64 * 1024)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return true;
}

CallResult ParseEndStream(std::string_view json) {
  CallResult r;
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    r.code = kInternal;
    r.message = "malformed end-of-stream frame: " + Truncate(json);
    return r;
  }
  if (!j.contains("error") || j["error"].is_null()) return r;
  const auto& e = j["error"];
  r.code = kUnknown;
  if (e.is_object()) {
    if (e.contains("code") && e["code"].is_string()) r.code = CodeFromConnectName(e["code"].get<std::string>());
    if (e.contains("message") && e["message"].is_string()) r.message = e["message"].get<std::string>();
  }
  return r;
}

}  // namespace flyte::loadgen
