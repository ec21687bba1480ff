#include "service/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace flyte::executor {
namespace {

constexpr char kHeader[] = "flyte-executor-journal v1";

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
  return j;
}

Journal::Journal(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

Journal::~Journal() {
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
  return WriteLocked();
}

absl::Status Journal::Remove(const std::string& lease_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.erase(lease_id) == 0) return absl::OkStatus();
  return WriteLocked();
}

// One line per lease: C-escaped fields separated by tabs.
//   lease_id org project domain run action parent attempt pgid final_phase
absl::Status Journal::WriteLocked() {
  std::string out = absl::StrCat(kHeader, "\n");
  for (const auto& [id, e] : entries_) {
    std::vector<std::string> f = {absl::CEscape(e.lease_id),      absl::CEscape(e.key.org),
                                  absl::CEscape(e.key.project),   absl::CEscape(e.key.domain),
                                  absl::CEscape(e.key.run_name),  absl::CEscape(e.key.action_name),
                                  absl::CEscape(e.parent_action_name), absl::StrCat(e.attempt),
                                  absl::StrCat(e.pgid),           absl::StrCat(static_cast<int>(e.final_phase))};
    absl::StrAppend(&out, absl::StrJoin(f, "\t"), "\n");
  }
  return WriteFileAtomically(dir_ + "/journal", out);
}

absl::Status Journal::LoadLocked() {
  const std::string path = dir_ + "/journal";
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::OkStatus();  // first start
  std::string line;
  std::getline(in, line);
  if (line.empty()) return absl::OkStatus();
  if (line != kHeader) return absl::InternalError(absl::StrCat(path, ": not an executor journal"));
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    JournalEntry e;
    int phase = 0;
    std::string u[7];
    bool ok = f.size() == 10;
    for (int i = 0; ok && i < 7; ++i) ok = absl::CUnescape(f[i], &u[i]);
    ok = ok && absl::SimpleAtoi(f[7], &e.attempt) && absl::SimpleAtoi(f[8], &e.pgid) &&
         absl::SimpleAtoi(f[9], &phase);
    if (!ok) return absl::InternalError(absl::StrCat(path, ": bad line: ", line));
    e.lease_id = u[0];
    e.key = ActionKey{u[1], u[2], u[3], u[4], u[5]};
    e.parent_action_name = u[6];
    e.final_phase = static_cast<Phase>(phase);
    entries_[e.lease_id] = std::move(e);
  }
  return absl::OkStatus();
}

}  // namespace flyte::executor
