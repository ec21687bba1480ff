#pragma once
// Makes a finished attempt's file and directory outputs readable by later tasks.
//
// Inside a task the SDK's File.from_local / Dir.from_local (no remote_destination) do not copy when the raw-data
// prefix is local: the output literal names the task's own path, e.g. a file in its /tmp, which the next task may
// not see (another node, or the file deleted meanwhile). After the process exits successfully the local runtime
// copies every blob an output literal names by a local path outside the shared roots (the data root and the run's
// directory, which may lie elsewhere when the run's output base says so) into
// <raw_output_dir>/localized/<n>/<name> and rewrites outputs.pb to name the copy, by its bare absolute path (what
// the SDK's File.open / File.download read; a file:// uri they cannot open).
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace flyte::executor {

// Returns how many blobs were copied (0 when outputs.pb is absent, not an Outputs message or names nothing to
// copy). Blobs whose path does not exist are left as they are (the next task reports them). kInternal on I/O
// errors.
absl::StatusOr<int> LocalizeOutputBlobs(const std::string& outputs_path, const std::vector<std::string>& shared_roots,
                                        const std::string& raw_output_dir);

}  // namespace flyte::executor
