#include "runtime/attempt_layout.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace flyte::executor {
namespace fs = std::filesystem;
namespace {

absl::Status CheckSegment(const char* what, const std::string& s) {
  if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", s, "' is not a valid path segment"));
  }
  return absl::OkStatus();
}

std::string StripTrailingSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string ToFileUri(const std::string& local_path) { return absl::StrCat("file://", local_path); }

absl::StatusOr<std::string> LocalPathFromUri(const std::string& uri) {
  absl::string_view rest = uri;
  if (absl::ConsumePrefix(&rest, "file://")) {
    // file://localhost/x is legal; anything else before the path is another host.
    absl::ConsumePrefix(&rest, "localhost");
  } else if (absl::StrContains(uri, "://")) {
    return absl::InvalidArgumentError(absl::StrCat("not a local file URI: ", uri));
  }
  if (rest.empty() || rest[0] != '/') return absl::InvalidArgumentError(absl::StrCat("not an absolute path: ", uri));
  return std::string(rest);
}

AttemptLayout::AttemptLayout(std::string data_root) : data_root_(StripTrailingSlashes(std::move(data_root))) {}

absl::StatusOr<AttemptPaths> AttemptLayout::Plan(const ActionKey& key, const std::string& run_output_base,
                                                 int attempt) const {
  for (auto [what, value] : {std::pair<const char*, const std::string*>{"org", &key.org},
                             {"project", &key.project},
                             {"domain", &key.domain},
                             {"run name", &key.run_name},
                             {"action name", &key.action_name}}) {
    if (absl::Status s = CheckSegment(what, *value); !s.ok()) return s;
  }
  if (attempt < 1) return absl::InvalidArgumentError(absl::StrCat("attempt must be >= 1, got ", attempt));

  AttemptPaths p;
  absl::StatusOr<std::string> base = absl::InvalidArgumentError("no run output base");
  if (!run_output_base.empty()) base = LocalPathFromUri(run_output_base);
  if (base.ok()) {
    p.run_dir = StripTrailingSlashes(*base);
  } else {
    p.run_dir = absl::StrCat(data_root_, "/", key.org, "/", key.project, "/", key.domain, "/", key.run_name);
  }
  p.action_dir = absl::StrCat(p.run_dir, "/", key.action_name);
  p.attempt_dir = absl::StrCat(p.action_dir, "/", attempt);
  p.output_dir = p.attempt_dir;
  p.raw_output_dir = p.attempt_dir + "/raw";
  p.checkpoint_dir = p.attempt_dir + "/checkpoint";
  p.work_dir = p.attempt_dir + "/work";
  p.stdout_path = p.attempt_dir + "/stdout.log";
  p.stderr_path = p.attempt_dir + "/stderr.log";
  p.error_path = p.output_dir + "/error.pb";
  p.outputs_path = p.output_dir + "/outputs.pb";
  if (attempt > 1) {
    std::string prev = absl::StrCat(p.action_dir, "/", attempt - 1, "/checkpoint");
    std::error_code ec;
    if (fs::is_directory(prev, ec)) p.prev_checkpoint_dir = prev;
  }
  return p;
}

absl::Status AttemptLayout::Create(const AttemptPaths& p) const {
  std::error_code ec;
  fs::remove_all(p.attempt_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot clear ", p.attempt_dir, ": ", ec.message()));
  // One mkdir(2) per directory: the run's tree exists after its first action, and each attempt's tree is new.
  // (create_directories would stat every level of every path first.)
  auto make = [](const std::string& dir) -> absl::Status {
    if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) return absl::OkStatus();
    std::error_code ec;
    if (errno == ENOENT && (fs::create_directories(dir, ec), !ec)) return absl::OkStatus();
    if (!ec) ec = std::error_code(errno, std::generic_category());
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  };
  // Parents first; the output and log directories are the attempt's own (made once).
  std::vector<std::string> made;
  for (const std::string& dir : {p.action_dir, p.attempt_dir, p.output_dir, p.raw_output_dir, p.checkpoint_dir,
                                 p.work_dir, fs::path(p.stdout_path).parent_path().string(),
                                 fs::path(p.stderr_path).parent_path().string()}) {
    if (std::find(made.begin(), made.end(), dir) != made.end()) continue;
    if (absl::Status s = make(dir); !s.ok()) return s;
    made.push_back(dir);
  }
  return absl::OkStatus();
}

}  // namespace flyte::executor
