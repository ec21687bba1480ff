#include "logs/file_log_source.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "logs/line_assembler.h"

namespace flyte::runs {
namespace {

constexpr char kFileScheme[] = "file://";

std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// One growing file read from an offset. A missing file reads as empty.
class FollowedFile {
 public:
  FollowedFile(std::string path, std::string container, size_t max_line_bytes)
      : path_(std::move(path)), container_(std::move(container)), lines_(max_line_bytes) {}

  // Reads up to `budget` new bytes. Sets *at_end when the file holds nothing beyond what was read.
  absl::Status Read(size_t budget, bool writer_done, std::vector<LogLine>* out, bool* at_end) {
    *at_end = true;
    std::FILE* f = std::fopen(path_.c_str(), "rb");
    if (f == nullptr) {
      if (errno != ENOENT) return absl::InternalError(absl::StrCat("opening ", path_, ": ", std::strerror(errno)));
    } else {
      struct stat st {};
      absl::Status s = absl::OkStatus();
      if (fstat(fileno(f), &st) != 0) {
        s = absl::InternalError(absl::StrCat("stat ", path_, ": ", std::strerror(errno)));
      } else {
        size_t size = static_cast<size_t>(st.st_size);
        if (size < offset_) offset_ = 0;  // recreated by a re-delivered attempt: its output starts over
        size_t want = std::min(budget, size - offset_);
        if (want > 0) {
          buf_.resize(want);
          size_t got = 0;
          if (fseeko(f, static_cast<off_t>(offset_), SEEK_SET) == 0) got = std::fread(buf_.data(), 1, want, f);
          if (got == 0 && std::ferror(f)) {
            s = absl::InternalError(absl::StrCat("reading ", path_, ": ", std::strerror(errno)));
          }
          offset_ += got;
          Emit(std::string_view(buf_.data(), got), out);
        }
        *at_end = offset_ >= size;
      }
      std::fclose(f);
      if (!s.ok()) return s;
    }
    if (writer_done && *at_end) {
      std::vector<std::string> texts;
      lines_.Flush(&texts);
      Append(texts, out);
    }
    return absl::OkStatus();
  }

  bool has_partial() const { return lines_.has_partial(); }

 private:
  void Emit(std::string_view bytes, std::vector<LogLine>* out) {
    std::vector<std::string> texts;
    lines_.Add(bytes, &texts);
    Append(texts, out);
  }
  void Append(std::vector<std::string>& texts, std::vector<LogLine>* out) {
    TimePoint now = std::chrono::system_clock::now();
    for (std::string& t : texts) out->push_back(LogLine{now, std::move(t), container_});
  }

  const std::string path_;
  const std::string container_;
  LineAssembler lines_;
  size_t offset_ = 0;
  std::string buf_;
};

class FileLogReader final : public LogReader {
 public:
  FileLogReader(const std::string& dir, size_t max_line_bytes)
      : stdout_(dir + "/stdout.log", "stdout", max_line_bytes), stderr_(dir + "/stderr.log", "stderr", max_line_bytes) {}

  absl::StatusOr<bool> Read(bool writer_done, size_t max_bytes, std::vector<LogLine>* out) override {
    size_t half = std::max<size_t>(1, max_bytes / 2);
    bool out_end = false, err_end = false;
    if (absl::Status s = stdout_.Read(half, writer_done, out, &out_end); !s.ok()) return s;
    if (absl::Status s = stderr_.Read(half, writer_done, out, &err_end); !s.ok()) return s;
    return writer_done && out_end && err_end && !stdout_.has_partial() && !stderr_.has_partial();
  }

 private:
  FollowedFile stdout_;
  FollowedFile stderr_;
};

}  // namespace

FileLogSource::FileLogSource(FileLogSourceOptions options) : options_(std::move(options)) {
  options_.root = Normal(options_.root);
}

absl::StatusOr<std::string> FileLogSource::AttemptDir(const AttemptLogRef& a) const {
  std::string run_dir;
  const std::string& base = a.run_output_base;
  if (base.empty()) {
    run_dir = absl::StrCat(options_.root, "/", a.key.run.org, "/", a.key.run.project, "/", a.key.run.domain, "/",
                           a.key.run.name);
  } else if (base.rfind(kFileScheme, 0) == 0) {
    run_dir = base.substr(sizeof(kFileScheme) - 1);
  } else if (base.front() == '/') {
    run_dir = base;
  } else {
    return absl::FailedPreconditionError(absl::StrCat("the logs of ", a.key.run.name, "/", a.key.name,
                                                      " are not on this service's local data root (run output base ",
                                                      base, ")"));
  }
  std::string dir = Normal(absl::StrCat(run_dir, "/", a.key.name, "/", a.attempt));
  if (dir.rfind(options_.root + "/", 0) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("the logs of ", a.key.run.name, "/", a.key.name,
                                                      " lie outside runs.storagePrefix (", options_.root, ")"));
  }
  return dir;
}

absl::StatusOr<std::unique_ptr<LogReader>> FileLogSource::Open(const AttemptLogRef& attempt) {
  absl::StatusOr<std::string> dir = AttemptDir(attempt);
  if (!dir.ok()) return dir.status();
  return std::unique_ptr<LogReader>(new FileLogReader(*dir, options_.max_line_bytes));
}

}  // namespace flyte::runs
