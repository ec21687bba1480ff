#pragma once
// Projects of flyteidl2.project.ProjectService: a small port and one implementation that keeps them in a JSON
// file (atomically rewritten on every change) or only in memory. Domains are not per project: every project has
// the domains configured in runs.domains.
//
// Why a file and not a database table: projects are a handful of rows changed by hand; a file next to the run
// data keeps them without a schema migration. With several replicas on PostgreSQL each replica has its own file
// (seeded from the same config), so CreateProject on one is not seen by the others; see docs/python-sdk.md.
//
// Thread-safe. Errors: kAlreadyExists (Create of an existing id), kNotFound, kInternal (file I/O or a corrupt file).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"

namespace flyte::runs {

// Numbering equals flyteidl2.project.ProjectState.
enum class ProjectState : int { kActive = 0, kArchived = 1, kSystemGenerated = 2, kSystemArchived = 3 };

struct ProjectRecord {
  std::string id;
  std::string name;
  std::string description;
  std::string org;
  std::map<std::string, std::string> labels;
  ProjectState state = ProjectState::kActive;
  common::TimePoint created_at{};
};

class ProjectStore {
 public:
  virtual ~ProjectStore() = default;
  virtual absl::Status Create(const ProjectRecord& p) = 0;          // kAlreadyExists if the id is taken
  virtual absl::Status Update(const ProjectRecord& p) = 0;          // kNotFound; created_at is kept
  virtual absl::StatusOr<ProjectRecord> Get(const std::string& id) = 0;  // kNotFound
  virtual absl::StatusOr<std::vector<ProjectRecord>> List() = 0;    // in creation order
};

class JsonFileProjectStore final : public ProjectStore {
 public:
  // `path` "" = memory only. Open() reads an existing file; kInternal if it is unreadable or corrupt.
  static absl::StatusOr<std::unique_ptr<JsonFileProjectStore>> Open(std::string path);

  absl::Status Create(const ProjectRecord& p) override;
  absl::Status Update(const ProjectRecord& p) override;
  absl::StatusOr<ProjectRecord> Get(const std::string& id) override;
  absl::StatusOr<std::vector<ProjectRecord>> List() override;

 private:
  explicit JsonFileProjectStore(std::string path) : path_(std::move(path)) {}
  absl::Status Save();  // requires mu_

  const std::string path_;
  std::mutex mu_;
  std::vector<ProjectRecord> projects_;  // guarded by mu_, creation order
};

}  // namespace flyte::runs
