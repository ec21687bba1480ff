#include "service/storage_local.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flyte::runs {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kFileScheme = "file://";

std::string StripTrailingSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool SafeRelative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view seg = rel.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

LocalBlobStore::LocalBlobStore(std::string prefix) : prefix_(StripTrailingSlashes(std::move(prefix))) {
  if (prefix_.rfind(kFileScheme, 0) == 0) {
    root_path_ = StripTrailingSlashes(prefix_.substr(kFileScheme.size()));
    local_ = !root_path_.empty() && root_path_.front() == '/';
  } else if (!prefix_.empty() && prefix_.front() == '/') {
    root_path_ = prefix_;
    local_ = true;
  }
}

absl::StatusOr<std::string> LocalBlobStore::UriFor(std::string_view relative) const {
  if (!SafeRelative(relative)) {
    return absl::InvalidArgumentError("'" + std::string(relative) + "' is not a relative path inside the data root");
  }
  return prefix_ + "/" + std::string(relative);
}

absl::StatusOr<std::string> LocalBlobStore::LocalPath(std::string_view uri) const {
  if (!local_) return absl::UnimplementedError("storage prefix " + prefix_ + " is not a local file:// prefix");
  std::string path(uri);
  if (path.rfind(kFileScheme, 0) == 0) path = path.substr(kFileScheme.size());
  if (path.empty() || path.front() != '/') return absl::InvalidArgumentError("'" + std::string(uri) + "' is not a file:// uri");
  if (path == root_path_) return path;
  if (path.rfind(root_path_ + "/", 0) != 0 || !SafeRelative(path.substr(root_path_.size() + 1))) {
    return absl::InvalidArgumentError("'" + std::string(uri) + "' is outside the data root " + prefix_);
  }
  return path;
}

bool LocalBlobStore::Contains(std::string_view uri) const { return LocalPath(uri).ok(); }

absl::StatusOr<std::string> LocalBlobStore::Read(std::string_view uri) const {
  absl::StatusOr<std::string> path = LocalPath(uri);
  if (!path.ok()) return path.status();
  std::ifstream in(*path, std::ios::binary);
  if (!in) return absl::NotFoundError(std::string(uri) + " does not exist");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::InternalError("cannot read " + *path);
  return buf.str();
}

absl::StatusOr<bool> LocalBlobStore::Exists(std::string_view uri) const {
  absl::StatusOr<std::string> path = LocalPath(uri);
  if (!path.ok()) return path.status();
  std::error_code ec;
  return fs::is_regular_file(*path, ec);
}

absl::Status LocalBlobStore::Write(std::string_view uri, std::string_view bytes) const {
  absl::StatusOr<std::string> path = LocalPath(uri);
  if (!path.ok()) return path.status();
  fs::path target(*path);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return absl::InternalError("cannot create " + target.parent_path().string() + ": " + ec.message());
  // A unique temp name per writer: concurrent writers of one blob each rename a complete file.
  static std::atomic<uint64_t> counter{0};
  fs::path tmp = target.parent_path() /
                 ("." + target.filename().string() + ".tmp." + std::to_string(getpid()) + "." + std::to_string(++counter));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return absl::InternalError("cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return absl::InternalError("cannot move " + tmp.string() + " to " + target.string() + ": " + ec.message());
  }
  return absl::OkStatus();
}

// --- digests and encodings ---

std::string Md5(std::string_view data) {
  static constexpr std::array<uint32_t, 64> kK = [] {
    std::array<uint32_t, 64> k{};
    // floor(abs(sin(i + 1)) * 2^32), precomputed (RFC 1321, section 3.4).
    const uint32_t v[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
    for (int i = 0; i < 64; ++i) k[i] = v[i];
    return k;
  }();
  static constexpr int kS[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  uint32_t a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  std::string msg(data);
  const uint64_t bit_len = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bit_len >> (8 * i)) & 0xff));
  auto rotl = [](uint32_t x, int c) { return (x << c) | (x >> (32 - c)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
      m[i] = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
    }
    uint32_t a = a0, b = b0, c = c0, d = d0;
    for (int i = 0; i < 64; ++i) {
      uint32_t f;
      int g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      f = f + a + kK[i] + m[g];
      a = d;
      d = c;
      c = b;
      b = b + rotl(f, kS[i]);
    }
    a0 += a; b0 += b; c0 += c; d0 += d;
  }
  std::string out(16, '\0');
  uint32_t words[4] = {a0, b0, c0, d0};
  for (int w = 0; w < 4; ++w) {
    for (int i = 0; i < 4; ++i) out[4 * w + i] = static_cast<char>((words[w] >> (8 * i)) & 0xff);
  }
  return out;
}

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string Base64Encode(std::string_view bytes, bool url_safe, bool pad) {
  const char* alphabet = url_safe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                  : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return absl::InvalidArgumentError("not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return absl::InvalidArgumentError("not base64");
  return out;
}

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (5 - bits)) & 31];
  return out;
}

}  // namespace flyte::runs
