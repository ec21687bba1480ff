#include "service/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "flyte/app/log.h"

namespace flyte::executor {
namespace {

// v1 (before the log): one line per live entry. v2: one line per change, "+\t<entry>" or "-\t<lease id>".
constexpr char kHeaderV1[] = "flyte-executor-journal v1";
constexpr char kHeaderV2[] = "flyte-executor-journal v2";
constexpr size_t kMinLinesBeforeCompaction = 1000;
constexpr size_t kCompactionGrowthFactor = 4;

std::string NewExecutorId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return absl::StrCat("executor-", host, "-", absl::Hex(r, absl::kZeroPad16));
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// C-escaped fields separated by tabs: lease_id org project domain run action parent attempt pgid final_phase
std::string EntryFields(const JournalEntry& e) {
  std::vector<std::string> f = {absl::CEscape(e.lease_id),      absl::CEscape(e.key.org),
                                absl::CEscape(e.key.project),   absl::CEscape(e.key.domain),
                                absl::CEscape(e.key.run_name),  absl::CEscape(e.key.action_name),
                                absl::CEscape(e.parent_action_name), absl::StrCat(e.attempt),
                                absl::StrCat(e.pgid),           absl::StrCat(static_cast<int>(e.final_phase))};
  return absl::StrJoin(f, "\t");
}

std::string PutLine(const JournalEntry& e) { return absl::StrCat("+\t", EntryFields(e), "\n"); }

bool ParseEntry(absl::string_view fields, JournalEntry* e) {
  std::vector<absl::string_view> f = absl::StrSplit(fields, '\t');
  if (f.size() != 10) return false;
  std::string u[7];
  for (int i = 0; i < 7; ++i) {
    if (!absl::CUnescape(f[i], &u[i])) return false;
  }
  int phase = 0;
  if (!absl::SimpleAtoi(f[7], &e->attempt) || !absl::SimpleAtoi(f[8], &e->pgid) || !absl::SimpleAtoi(f[9], &phase)) {
    return false;
  }
  e->lease_id = u[0];
  e->key = ActionKey{u[1], u[2], u[3], u[4], u[5]};
  e->parent_action_name = u[6];
  e->final_phase = static_cast<Phase>(phase);
  return true;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();  // first start
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  }
  std::string content;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot read ", path, ": ", strerror(error)));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return content;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string lock_path = dir + "/lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", lock_path, ": ", strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is in use by another executor (lock ", lock_path, " is held)"));
  }
  std::unique_ptr<Journal> j(new Journal(dir, fd));

  const std::string id_path = dir + "/executor-id";
  std::ifstream id_in(id_path);
  std::getline(id_in, j->executor_id_);
  if (j->executor_id_.empty()) {
    j->executor_id_ = NewExecutorId();
    absl::Status s = WriteFileAtomically(id_path, j->executor_id_ + "\n");
    if (!s.ok()) return s;
  }
  std::lock_guard<std::mutex> lock(j->mu_);
  absl::Status s = j->LoadLocked();
  if (!s.ok()) return s;
  // Starts every life with a log of only live entries: drops a partial last line (so that appends do not
  // continue it), what the previous life removed, and the v1 format.
  s = j->CompactLocked();
  if (!s.ok()) return s;
  return j;
}

Journal::Journal(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

Journal::~Journal() {
  if (log_fd_ >= 0) close(log_fd_);
  flock(lock_fd_, LOCK_UN);
  close(lock_fd_);
}

std::vector<JournalEntry> Journal::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JournalEntry> out;
  for (const auto& [id, e] : entries_) out.push_back(e);
  return out;
}

absl::Status Journal::Put(const JournalEntry& e) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[e.lease_id] = e;
  return AppendLocked(PutLine(e));
}

absl::Status Journal::Remove(const std::string& lease_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.erase(lease_id) == 0) return absl::OkStatus();
  return AppendLocked(absl::StrCat("-\t", absl::CEscape(lease_id), "\n"));
}

absl::Status Journal::AppendLocked(const std::string& line) {
  // One write() on an O_APPEND descriptor: the line lands whole at the end, or (killed mid-write, disk full) as a
  // partial line. A partial line is only harmless last, so after a failed append the log is rewritten, and if that
  // fails too every later change retries the rewrite rather than appending after the fragment.
  if (!log_broken_) {
    ssize_t n;
    do {
      n = write(log_fd_, line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(line.size())) {
      ++log_lines_;
      if (log_lines_ <= std::max(kMinLinesBeforeCompaction, kCompactionGrowthFactor * entries_.size())) {
        return absl::OkStatus();
      }
      // The change is in the log already; a failed compaction is retried at the next change.
      absl::Status s = CompactLocked();
      if (!s.ok()) FLYTE_LOG(kWarn, "journal: compaction failed, the log keeps growing: {}", s.ToString());
      return absl::OkStatus();
    }
    log_broken_ = true;
  }
  absl::Status s = CompactLocked();
  if (!s.ok()) return absl::InternalError(absl::StrCat("journal not updated: ", s.message()));
  return absl::OkStatus();
}

absl::Status Journal::CompactLocked() {
  std::string content = absl::StrCat(kHeaderV2, "\n");
  for (const auto& [id, e] : entries_) absl::StrAppend(&content, PutLine(e));
  const std::string path = dir_ + "/journal";
  const std::string tmp = path + ".tmp";
  // Opened for appending from the start: after the rename the same descriptor is the journal's.
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", tmp, ": ", strerror(errno)));
  if (!WriteAll(fd, content)) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", strerror(error)));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", strerror(error)));
  }
  if (log_fd_ >= 0) close(log_fd_);
  log_fd_ = fd;
  log_lines_ = entries_.size();
  log_broken_ = false;
  return absl::OkStatus();
}

absl::Status Journal::LoadLocked() {
  const std::string path = dir_ + "/journal";
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  std::vector<absl::string_view> lines = absl::StrSplit(*content, '\n');
  // Split leaves after the last '\n' an empty piece, or a line the writer was killed in the middle of: a change
  // never acknowledged, so dropped.
  lines.pop_back();
  if (lines.empty()) return absl::OkStatus();  // first start, or only a partial line
  const bool v1 = lines[0] == kHeaderV1;
  if (!v1 && lines[0] != kHeaderV2) return absl::InternalError(absl::StrCat(path, ": not an executor journal"));
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (line.empty()) continue;
    JournalEntry e;
    std::string lease_id;
    bool ok;
    if (v1) {
      ok = ParseEntry(line, &e);
    } else if (absl::ConsumePrefix(&line, "+\t")) {
      ok = ParseEntry(line, &e);
    } else if (absl::ConsumePrefix(&line, "-\t")) {
      ok = absl::CUnescape(line, &lease_id);
      if (ok) entries_.erase(lease_id);
      continue;
    } else {
      ok = false;
    }
    if (!ok) return absl::InternalError(absl::StrCat(path, ": bad line ", i + 1, ": ", line));
    entries_[e.lease_id] = std::move(e);
  }
  return absl::OkStatus();
}

}  // namespace flyte::executor
