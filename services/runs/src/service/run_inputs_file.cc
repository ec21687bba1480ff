#include "service/run_inputs_file.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flyte::runs {
namespace {

std::string RandomHex16() {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  uint64_t v = engine();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xf];
  return out;
}

// The run's directory usually does not exist yet and its parent (<project>/<domain>) usually does: one mkdir,
// instead of create_directories' stat of every level (this is on every CreateRun).
absl::Status MakeParentDir(const std::filesystem::path& file) {
  const std::filesystem::path dir = file.parent_path();
  if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create " + dir.string() + ": " + ec.message());
  return absl::OkStatus();
}

}  // namespace

std::string NewInputsFileUri(const std::string& run_uri) { return run_uri + "/inputs-" + RandomHex16() + ".pb"; }

bool IsLocalUri(const std::string& uri) { return uri.rfind("file://", 0) == 0 || uri.rfind("/", 0) == 0; }

std::string LocalPathOf(const std::string& uri) { return uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri; }

absl::Status WriteNewInputsFile(const std::string& uri, const std::string& bytes) {
  const std::string path = LocalPathOf(uri);
  if (absl::Status s = MakeParentDir(path); !s.ok()) return s;
  // Plain open/write/close: a stream's buffer would only add a copy. O_EXCL: never someone else's file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError("cannot write inputs to " + path + ": " + std::strerror(errno));
  bool ok = true;
  int error = 0;
  for (size_t done = 0; ok && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
    else error = n < 0 ? errno : ENOSPC;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    ::unlink(path.c_str());
    return absl::InternalError("cannot write inputs to " + path + ": " + std::strerror(error));
  }
  return absl::OkStatus();
}

void RemoveInputsFile(const std::string& uri) { ::unlink(LocalPathOf(uri).c_str()); }

}  // namespace flyte::runs
