#include "repository/sql_project_repository.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "repository/sql_common.h"

namespace flyte::runs {
namespace {

constexpr char kProjectCols[] = "id, org, name, description, labels, state, created_at";

std::string LabelsJson(const std::map<std::string, std::string>& labels) { return nlohmann::json(labels).dump(); }

ProjectRecord ProjectFromRow(const Row& r) {
  ProjectRecord p;
  p.id = r.Str(0);
  p.org = r.Str(1);
  p.name = r.Str(2);
  p.description = r.Str(3);
  nlohmann::json labels = nlohmann::json::parse(r.Str(4), nullptr, false);
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) p.labels[k] = v.get<std::string>();
    }
  }
  p.state = static_cast<ProjectState>(r.Int(5));
  p.created_at = common::FromUnixMicros(r.Int(6));
  return p;
}

}  // namespace

absl::Status SqlProjectRepository::Create(const ProjectRecord& p) {
  absl::Status s = db_.Write("CreateProject", [&](Tx& tx) -> absl::Status {
    return tx
        .Exec(std::string("INSERT INTO projects (") + kProjectCols + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
              {p.id, p.org, p.name, p.description, LabelsJson(p.labels), int64_t{static_cast<int>(p.state)},
               Micros(p.created_at)})
        .status();
  });
  if (s.code() == absl::StatusCode::kAlreadyExists) return absl::AlreadyExistsError("project " + p.id + " already exists");
  return s;
}

absl::Status SqlProjectRepository::Update(const ProjectRecord& p) {
  int64_t changed = 0;
  absl::Status s = db_.Write("UpdateProject", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        "UPDATE projects SET org = ?, name = ?, description = ?, labels = ?, state = ? WHERE id = ?",
        {p.org, p.name, p.description, LabelsJson(p.labels), int64_t{static_cast<int>(p.state)}, p.id});
    if (!n.ok()) return n.status();
    changed = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (changed == 0) return absl::NotFoundError("project " + p.id + " not found");
  return absl::OkStatus();
}

absl::StatusOr<ProjectRecord> SqlProjectRepository::Get(const std::string& id) {
  std::optional<ProjectRecord> out;
  // One statement: CreateRun checks its project here, so the BEGIN and COMMIT round trips would be on every run.
  absl::Status s = db_.ReadStatement("GetProject", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(std::string("SELECT ") + kProjectCols + " FROM projects WHERE id = ?", {id});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) out = ProjectFromRow(rows->front());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!out) return absl::NotFoundError("project " + id + " not found");
  return *std::move(out);
}

absl::StatusOr<std::vector<ProjectRecord>> SqlProjectRepository::List() {
  std::vector<ProjectRecord> out;
  absl::Status s = db_.Read("ListProjects", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows =
        tx.Query(std::string("SELECT ") + kProjectCols + " FROM projects ORDER BY created_at, id");
    if (!rows.ok()) return rows.status();
    for (const Row& r : *rows) out.push_back(ProjectFromRow(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> SqlSecretRepository::GetOrCreate(const std::string& name, const std::string& candidate) {
  std::optional<std::string> out;
  // Insert-if-absent, then read, in one transaction: whichever replica inserted first, all read its value.
  absl::Status s = db_.Write("GetOrCreateSecret", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> inserted =
        tx.Exec("INSERT INTO service_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                {name, Bytes{candidate}, Micros(common::Clock::System().Now())});
    if (!inserted.ok()) return inserted.status();
    absl::StatusOr<Rows> rows = tx.Query("SELECT value FROM service_secrets WHERE name = ?", {name});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::InternalError("secret " + name + " vanished");
    out = rows->front().Str(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return *std::move(out);
}

}  // namespace flyte::runs
