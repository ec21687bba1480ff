#pragma once
// Use cases of flyteidl2.project.ProjectService on plain types. Every project has the configured domains.
// Thread-safe. Errors: kInvalidArgument (bad id, unsupported filter/sort, names what), kNotFound,
// kAlreadyExists, kUnavailable/kInternal (store).
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/common/clock.h"
#include "repository/project_repository.h"

namespace flyte::runs {

struct ProjectsPage {
  std::vector<ProjectRecord> items;
  std::optional<uint64_t> next_offset;  // set when more follow
};

struct ProjectListQuery {
  uint32_t limit = 0;      // 0 = 100
  uint64_t offset = 0;
  std::string filters;     // "eq(state, 0)+eq(name, x)": eq terms on state, id, name joined by '+'
  std::string sort_key;    // "" / created_at / id / name
  bool descending = false;
};

class ProjectUseCases {
 public:
  ProjectUseCases(ProjectRepository& store, common::Clock& clock, std::vector<std::string> domains)
      : store_(store), clock_(clock), domains_(std::move(domains)) {}

  // Creates each of `ids` that does not exist yet (name = id). Run once at start.
  absl::Status EnsureProjects(const std::vector<std::string>& ids);
  // Creates the projects listed in a projects file of earlier versions (<storage root>/.flyte/projects.json,
  // {"projects": [{"id", "name", "description", "org", "labels", "state", "createdAtMicros"}]}) that do not exist
  // yet, and returns how many; a missing file is 0. kInternal if it cannot be read or parsed.
  absl::StatusOr<int> ImportProjectsFile(const std::string& path);

  absl::Status CreateProject(ProjectRecord p);   // id: 1..63 chars [a-z0-9-], name defaults to id
  absl::Status UpdateProject(ProjectRecord p);   // replaces name/description/labels/state
  absl::StatusOr<ProjectRecord> GetProject(const std::string& id);
  absl::StatusOr<ProjectsPage> ListProjects(const ProjectListQuery& query);

  const std::vector<std::string>& domains() const { return domains_; }

  // Whether runs, tasks and inputs may be created in `project` / `domain`: kNotFound naming the project, or the
  // domain and the known ones, when either does not exist (archived projects exist). Used by CreateRun,
  // DeployTask and UploadInputs. A project found once is not read again: projects are never deleted (archived ones
  // exist), on this replica or any other, so only a project not seen yet costs a database read.
  absl::Status CheckScope(const std::string& project, const std::string& domain);

 private:
  bool Known(const std::string& project);

  ProjectRepository& store_;
  common::Clock& clock_;
  const std::vector<std::string> domains_;
  std::mutex known_mu_;
  std::unordered_set<std::string> known_;  // projects CheckScope found (bounded by the number of projects)
};

}  // namespace flyte::runs
