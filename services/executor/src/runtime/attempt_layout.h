#pragma once
// Where one attempt of one action keeps its files on the local data root, all reachable as file:// URIs:
//
//   <run_dir>/<action>/<attempt>/            output prefix ({{.outputPrefix}}: outputs.pb, error.pb)
//   <run_dir>/<action>/<attempt>/raw/        {{.rawOutputDataPrefix}}
//   <run_dir>/<action>/<attempt>/checkpoint/ {{.checkpointOutputPrefix}} (attempt n+1 gets it as prev checkpoint)
//   <run_dir>/<action>/<attempt>/work/       the process's working directory
//   <run_dir>/<action>/<attempt>/stdout.log, stderr.log   the process's output (next to outputs.pb: one
//                                            directory fewer per attempt)
//
// run_dir is the run's file:// output base when it has one, else <data_root>/<org>/<project>/<domain>/<run>.
// Thread-safe (no state besides the root).
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/action.h"

namespace flyte::executor {

struct AttemptPaths {
  std::string run_dir;  // local paths, no trailing slash
  std::string action_dir;
  std::string attempt_dir;
  std::string output_dir;
  std::string raw_output_dir;
  std::string checkpoint_dir;
  std::string prev_checkpoint_dir;  // previous attempt's checkpoint dir when it exists, else empty
  std::string work_dir;
  std::string stdout_path;
  std::string stderr_path;
  std::string error_path;    // <output_dir>/error.pb
  std::string outputs_path;  // <output_dir>/outputs.pb
};

class AttemptLayout {
 public:
  explicit AttemptLayout(std::string data_root);  // absolute local directory

  // Computes the paths without touching the disk. kInvalidArgument for names that are not single path segments.
  absl::StatusOr<AttemptPaths> Plan(const ActionKey& key, const std::string& run_output_base, int attempt) const;

  // Starts the attempt from a clean directory (a re-delivered attempt must not see a stale error.pb) and creates
  // every directory, the output prefix included (fsspec writes there). kInternal on I/O errors.
  absl::Status Create(const AttemptPaths& paths) const;

  const std::string& data_root() const { return data_root_; }

 private:
  std::string data_root_;
};

std::string ToFileUri(const std::string& local_path);                     // "/a/b" -> "file:///a/b"
absl::StatusOr<std::string> LocalPathFromUri(const std::string& uri);     // file:// or a bare absolute path

}  // namespace flyte::executor
