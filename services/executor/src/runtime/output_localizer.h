#pragma once
// Makes a finished attempt's file and directory outputs readable by later tasks.
//
// Inside a task the SDK's File.from_local / Dir.from_local (no remote_destination) do not copy when the raw-data
// prefix is local: the output literal names the task's own path, e.g. a file in its /tmp, which the next task may
// not see (another node, or the file deleted meanwhile). Before the attempt is reported SUCCEEDED its outputs.pb is
// rewritten so every blob (File/Dir, also inside lists, maps and unions) names a path later tasks read, by its
// bare absolute path (what the SDK's File.open / File.download read; a file:// uri they cannot open):
//   - local runtime (`copy_into` set): a blob at a local path outside the shared roots (the data root and the
//     run's directory, which may lie elsewhere when the run's output base says so) that exists is copied into
//     <copy_into>/localized/<n>/<name>;
//   - Kubernetes (`copy_into` empty): the task's /tmp may be a directory on the shared data volume (a subPath
//     mount, `task_dir`), so a blob under the task's path of it is renamed to the same file on the volume, without
//     a copy; other local paths outside the shared roots are in the Pod, gone with it: left as written and
//     counted. Paths are read as the task wrote them (lexically): the executor never resolves a Pod's path in its
//     own filesystem.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace flyte::executor {

// A directory the task sees at `task_path` that is `volume_path` for everyone else (both absolute).
struct TaskDirOnVolume {
  std::string task_path;    // e.g. /tmp
  std::string volume_path;  // e.g. <data root>/<org>/<project>/<domain>/<run>/<action>/<attempt>/tmp
};

struct OutputBlobPolicy {
  std::vector<std::string> shared_roots;   // blobs under these are where every task reads them: left as they are
  std::string copy_into;                   // local runtime: copy other local blobs under here; "" = copy nothing
  std::optional<TaskDirOnVolume> task_dir; // Kubernetes (copy_into ""): rename blobs under task_dir->task_path
};

struct OutputBlobChanges {
  int copied = 0;  // copied into <copy_into>/localized/
  int renamed = 0; // renamed from task_dir->task_path to task_dir->volume_path
  int renamed_before = 0;  // naming task_dir->volume_path already (an earlier rewrite of the same outputs)
  int left = 0;    // local paths outside the shared roots left as written (missing, or nowhere to put them)
};

// outputs.pb absent or not an Outputs message: nothing changes (whoever reads the outputs reports it). outputs.pb
// is replaced atomically, and only when something changed. kInternal on I/O errors (a copy or the replace).
absl::StatusOr<OutputBlobChanges> LocalizeOutputBlobs(const std::string& outputs_path,
                                                      const OutputBlobPolicy& policy);

}  // namespace flyte::executor
