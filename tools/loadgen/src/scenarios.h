#pragma once
// The load generator's modes. Each builds its clients from the flags, runs, and returns one Report.
#include <string>

#include "absl/status/statusor.h"
#include "flags.h"
#include "flyteidl2/workflow/run_service.pb.h"
#include "stats.h"

namespace flyte::loadgen {

struct Scope {
  std::string org, project, domain;
};

// A CreateRun with an explicit run id and a minimal inline TaskSpec (a container task that does nothing).
flyteidl2::workflow::CreateRunRequest MakeCreateRun(const Scope& scope, const std::string& run_name);
// Short, lower-case, unique per process: "lg" + 6 base-36 characters.
std::string RunNamePrefix();
// VmRSS (or another field, e.g. "VmHWM") of /proc/<pid>/status in KiB; -1 if unreadable.
long ReadProcStatusKb(int pid, const std::string& field = "VmRSS");
// User + system CPU seconds a process has used (/proc/<pid>/stat; 0 = self); -1 if unreadable.
double ReadProcCpuSeconds(int pid);
// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
long RaiseFileLimit();

absl::StatusOr<Report> RunCreate(const Flags& flags);
absl::StatusOr<Report> RunGet(const Flags& flags);
absl::StatusOr<Report> RunList(const Flags& flags);
absl::StatusOr<Report> RunWatch(const Flags& flags);

}  // namespace flyte::loadgen
