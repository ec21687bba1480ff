#include "service/project_store.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace flyte::runs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json ToJson(const ProjectRecord& p) {
  return json{{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"org", p.org},
              {"labels", p.labels},
              {"state", static_cast<int>(p.state)},
              {"createdAtMicros", common::ToUnixMicros(p.created_at)}};
}

ProjectRecord FromJson(const json& j) {
  ProjectRecord p;
  p.id = j.at("id").get<std::string>();
  p.name = j.value("name", p.id);
  p.description = j.value("description", "");
  p.org = j.value("org", "");
  p.labels = j.value("labels", std::map<std::string, std::string>{});
  p.state = static_cast<ProjectState>(j.value("state", 0));
  p.created_at = common::FromUnixMicros(j.value("createdAtMicros", int64_t{0}));
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JsonFileProjectStore>> JsonFileProjectStore::Open(std::string path) {
  std::unique_ptr<JsonFileProjectStore> store(new JsonFileProjectStore(path));
  if (path.empty()) return store;
  std::error_code ec;
  if (!fs::exists(path, ec)) return store;
  std::ifstream in(path);
  if (!in) return absl::InternalError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    json doc = json::parse(text.str());
    for (const json& j : doc.at("projects")) store->projects_.push_back(FromJson(j));
  } catch (const std::exception& e) {
    return absl::InternalError("corrupt projects file " + path + ": " + e.what());
  }
  return store;
}

absl::Status JsonFileProjectStore::Save() {
  if (path_.empty()) return absl::OkStatus();
  json list = json::array();
  for (const ProjectRecord& p : projects_) list.push_back(ToJson(p));
  fs::path target(path_);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return absl::InternalError("cannot create " + target.parent_path().string() + ": " + ec.message());
  // A name of its own per process and save: two services sharing a data root must not rename each other's file.
  static std::atomic<uint64_t> saves{0};
  fs::path tmp = target;
  tmp += "." + std::to_string(::getpid()) + "." + std::to_string(saves++) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json{{"projects", list}}.dump(2) << "\n";
    out.close();
    if (!out) return absl::InternalError("cannot write " + tmp.string());
  }
  fs::rename(tmp, target, ec);
  if (ec) return absl::InternalError("cannot replace " + target.string() + ": " + ec.message());
  return absl::OkStatus();
}

absl::Status JsonFileProjectStore::Create(const ProjectRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ProjectRecord& q : projects_) {
    if (q.id == p.id) return absl::AlreadyExistsError("project " + p.id + " already exists");
  }
  projects_.push_back(p);
  absl::Status s = Save();
  if (!s.ok()) projects_.pop_back();
  return s;
}

absl::Status JsonFileProjectStore::Update(const ProjectRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  for (ProjectRecord& q : projects_) {
    if (q.id != p.id) continue;
    ProjectRecord before = q;
    q = p;
    q.created_at = before.created_at;
    absl::Status s = Save();
    if (!s.ok()) q = before;
    return s;
  }
  return absl::NotFoundError("project " + p.id + " not found");
}

absl::StatusOr<ProjectRecord> JsonFileProjectStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ProjectRecord& q : projects_) {
    if (q.id == id) return q;
  }
  return absl::NotFoundError("project " + id + " not found");
}

absl::StatusOr<std::vector<ProjectRecord>> JsonFileProjectStore::List() {
  std::lock_guard<std::mutex> lock(mu_);
  return projects_;
}

}  // namespace flyte::runs
