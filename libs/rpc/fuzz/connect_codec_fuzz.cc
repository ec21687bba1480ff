// libFuzzer target over the Connect wire parsing: envelopes, gzip with a cap, headers, GET queries, and decoding a
// request for real flyteidl2 methods in both codecs. The first input byte picks what the rest is fed to.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connect_codec.h"
#include "flyteidl2/workflow/run_service.pb.h"

namespace connect = flyte::rpc::connect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr size_t kMax = 64 * 1024;
  switch (selector % 9) {
    case 0: {
      while (!in.empty()) {
        auto env = connect::ParseEnvelope(in, kMax);
        if (!env.ok()) break;
        in.remove_prefix(env->consumed);
      }
      break;
    }
    case 1: {
      auto out = connect::GzipInflate(in, kMax);
      if (out.ok() && out->size() > kMax) __builtin_trap();
      break;
    }
    case 2: {
      (void)connect::ParseContentType(in);
      (void)connect::ParseTimeoutMs(in);
      (void)connect::CheckProtocolVersion(in);
      (void)connect::CheckEncoding(in);
      (void)connect::AcceptsGzip(in);
      (void)connect::ParseErrorJson(in);
      (void)connect::ParseEndStreamJson(in);
      break;
    }
    case 3:
    case 4: {
      flyteidl2::workflow::GetRunDetailsRequest req;
      auto codec = selector & 0x10 ? connect::Codec::kJson : connect::Codec::kProto;
      if (connect::DecodeUnaryRequest(in, codec, selector & 0x20 ? "gzip" : "", kMax, &req).ok()) {
        (void)connect::EncodeMessage(req, connect::Codec::kJson);
      }
      break;
    }
    case 5:
    case 6: {
      flyteidl2::workflow::WatchRunsRequest req;
      auto codec = selector & 0x10 ? connect::Codec::kJson : connect::Codec::kProto;
      (void)connect::DecodeStreamRequest(in, codec, selector & 0x20 ? "gzip" : "identity", kMax, &req);
      break;
    }
    case 7: {
      flyteidl2::workflow::ListRunsRequest req;
      if (connect::DecodeMessage(in, connect::Codec::kJson, &req).ok()) {
        auto again = connect::EncodeMessage(req, connect::Codec::kProto);
        if (again.ok()) (void)connect::DecodeMessage(*again, connect::Codec::kProto, &req);
      }
      (void)connect::ErrorJson(absl::InternalError(std::string(in)));
      break;
    }
    case 8: {
      auto get = connect::ParseGetQuery(in);
      if (get.ok()) {
        flyteidl2::workflow::ListRunsRequest req;
        if (get->message.size() > in.size()) __builtin_trap();  // decoding never grows the message
        (void)connect::DecodeUnaryRequest(get->message, get->codec, get->compression, kMax, &req);
      }
      break;
    }
  }
  return 0;
}
