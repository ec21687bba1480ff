#pragma once
// Turns a byte stream (a log file read in chunks, a Pod log arriving in HTTP chunks) into lines: each complete line
// with its '\n', a line longer than the limit in pieces of the limit, invalid UTF-8 replaced by U+FFFD (a proto
// string must be valid UTF-8, or the client cannot decode the message). Holds at most `max_line_bytes` of a line
// still being written. Not thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace flyte::runs {

class LineAssembler {
 public:
  explicit LineAssembler(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Appends `bytes`; every line it completes goes to `out`.
  void Add(std::string_view bytes, std::vector<std::string>* out);
  // The unterminated rest, if any, as a last line (with a '\n' added): for when the writer is done.
  void Flush(std::vector<std::string>* out);
  bool has_partial() const { return !partial_.empty(); }

 private:
  const size_t max_line_bytes_;
  std::string partial_;
};

// `bytes` with every invalid UTF-8 sequence (a truncated character included) replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view bytes);

}  // namespace flyte::runs
