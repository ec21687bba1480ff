#include "logs/line_assembler.h"

namespace flyte::runs {

void LineAssembler::Add(std::string_view bytes, std::vector<std::string>* out) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    size_t room = max_line_bytes_ - partial_.size();
    if (nl != std::string_view::npos && nl <= room) {  // the newline itself does not count
      partial_.append(bytes.substr(0, nl + 1));
      out->push_back(SanitizeUtf8(partial_));
      partial_.clear();
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (bytes.size() < room) {
      partial_.append(bytes);
      return;
    }
    // The line outgrows the limit: hand out what fits as one piece, so memory stays bounded.
    partial_.append(bytes.substr(0, room));
    bytes.remove_prefix(room);
    partial_.push_back('\n');
    out->push_back(SanitizeUtf8(partial_));
    partial_.clear();
  }
}

void LineAssembler::Flush(std::vector<std::string>* out) {
  if (partial_.empty()) return;
  partial_.push_back('\n');
  out->push_back(SanitizeUtf8(partial_));
  partial_.clear();
}

std::string SanitizeUtf8(std::string_view in) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (RFC 3629 table)
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char b = static_cast<unsigned char>(in[i + k]);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (!ok) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace flyte::runs
