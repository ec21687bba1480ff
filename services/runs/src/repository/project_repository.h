#pragma once
// Persistence ports for ProjectService's projects and for the service's own secrets (the key that signs upload
// and download URLs), in the same database as the runs, so every replica sees the same rows. Implemented once in
// SQL (sql_project_repository.h) for SQLite and PostgreSQL; one conformance suite
// (tests/project_repository_conformance_test.cc). Domains are not per project: every project has the domains
// configured in runs.domains.
//
// Thread-safe. Never throw. Errors: kAlreadyExists (Create of an existing id), kNotFound, kUnavailable (database
// unreachable), kInternal.
#include <map>
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
  bool operator==(const ProjectRecord&) const = default;
};

class ProjectRepository {
 public:
  virtual ~ProjectRepository() = default;
  virtual absl::Status Create(const ProjectRecord& p) = 0;               // kAlreadyExists if the id is taken
  virtual absl::Status Update(const ProjectRecord& p) = 0;               // kNotFound; created_at is kept
  virtual absl::StatusOr<ProjectRecord> Get(const std::string& id) = 0;  // kNotFound
  virtual absl::StatusOr<std::vector<ProjectRecord>> List() = 0;         // by created_at, then id
};

class SecretRepository {
 public:
  virtual ~SecretRepository() = default;
  // The secret stored under `name`; if there is none yet, stores `candidate` and returns it. Concurrent callers
  // (several replicas starting at once) all get the one value that was stored first.
  virtual absl::StatusOr<std::string> GetOrCreate(const std::string& name, const std::string& candidate) = 0;
};

}  // namespace flyte::runs
