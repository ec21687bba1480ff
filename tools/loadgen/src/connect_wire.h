#pragma once
// Connect protocol framing helpers for the load generator (https://connectrpc.com/docs/protocol).
// Pure functions and a small incremental parser; no I/O, so they are unit-tested on their own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flyte::loadgen {

// A call's outcome in gRPC numbering (0 = OK, 5 = NOT_FOUND, ...). Transport failures below the RPC layer
// (connection refused, reset, bad framing) are reported as UNAVAILABLE / INTERNAL with a message saying so.
struct CallResult {
  int code = 0;
  std::string message;
  bool ok() const { return code == 0; }
};

inline constexpr int kOk = 0;
inline constexpr int kUnknown = 2;
inline constexpr int kDeadlineExceeded = 4;
inline constexpr int kInternal = 13;
inline constexpr int kUnavailable = 14;

// "NOT_FOUND" style upper-case name of a gRPC code ("CODE_<n>" beyond 16).
std::string CodeName(int code);
// Connect's lower-case code names ("not_found") to gRPC numbers; UNKNOWN for names it does not know.
int CodeFromConnectName(std::string_view name);
// Connect maps codes to HTTP statuses for unary errors; used when an error body carries no JSON code.
int CodeFromHttpStatus(int http_status);

// Parses a Connect error JSON body {"code": "...", "message": "..."}; for a non-JSON body falls back to
// the HTTP status mapping with the body (truncated) as message.
CallResult ParseConnectError(int http_status, std::string_view body);

// One enveloped message: flags byte (0x01 compressed, 0x02 end-of-stream), 4-byte big-endian length, payload.
std::string Envelope(std::string_view payload, uint8_t flags = 0);

struct Frame {
  uint8_t flags = 0;
  std::string payload;
  bool end_stream() const { return (flags & 0x02) != 0; }
};

// Feeds arbitrary byte slices of a Connect streaming body and yields whole frames in order.
// Not thread-safe. Rejects (error()) frames larger than `max_frame`.
class EnvelopeParser {
 public:
  explicit EnvelopeParser(size_t max_frame = 16 * 1024 * 1024) : max_frame_(max_frame) {}
  // Appends bytes and moves every complete frame into `out`. Returns false once the stream is malformed.
  bool Feed(std::string_view bytes, std::vector<Frame>* out);
  bool error() const { return error_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_;
  std::string buf_;
  size_t pos_ = 0;
  bool error_ = false;
};

// The end-of-stream frame's JSON: {} is OK, {"error": {"code": ..., "message": ...}} is a failure.
CallResult ParseEndStream(std::string_view json);

}  // namespace flyte::loadgen
