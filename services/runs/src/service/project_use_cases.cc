#include "service/project_use_cases.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace flyte::runs {
namespace {

std::string Trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(s.front())) s.erase(s.begin());
  while (!s.empty() && space(s.back())) s.pop_back();
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

absl::Status CheckId(const std::string& id) {
  if (id.empty() || id.size() > 63) return absl::InvalidArgumentError("project id must be 1..63 characters");
  for (char c : id) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_')) {
      return absl::InvalidArgumentError("project id '" + id + "' may only contain a-z, 0-9, '-' and '_'");
    }
  }
  return absl::OkStatus();
}

struct EqTerm {
  std::string field, value;
};

absl::StatusOr<std::vector<EqTerm>> ParseFilters(const std::string& text) {
  std::vector<EqTerm> terms;
  if (Trim(text).empty()) return terms;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('+', start);
    if (end == std::string::npos) end = text.size();
    std::string term = Trim(text.substr(start, end - start));
    start = end + 1;
    if (term.empty()) continue;
    if (term.rfind("eq(", 0) != 0 || term.back() != ')') {
      return absl::InvalidArgumentError("filters: only eq(field, value) terms are supported, got '" + term + "'");
    }
    std::string inner = term.substr(3, term.size() - 4);
    size_t comma = inner.find(',');
    if (comma == std::string::npos) return absl::InvalidArgumentError("filters: malformed term '" + term + "'");
    EqTerm t{Trim(inner.substr(0, comma)), Trim(inner.substr(comma + 1))};
    if (t.field != "state" && t.field != "id" && t.field != "name") {
      return absl::InvalidArgumentError("filters: unknown field '" + t.field + "' (state, id, name)");
    }
    terms.push_back(std::move(t));
  }
  return terms;
}

bool Matches(const ProjectRecord& p, const std::vector<EqTerm>& terms) {
  for (const EqTerm& t : terms) {
    if (t.field == "state" && std::to_string(static_cast<int>(p.state)) != t.value) return false;
    if (t.field == "id" && p.id != t.value) return false;
    if (t.field == "name" && p.name != t.value) return false;
  }
  return true;
}

}  // namespace

absl::Status ProjectUseCases::EnsureProjects(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    absl::StatusOr<ProjectRecord> existing = store_.Get(id);
    if (existing.ok()) continue;
    if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
    ProjectRecord p;
    p.id = id;
    if (absl::Status s = CreateProject(p); !s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ProjectUseCases::ImportProjectsFile(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return 0;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::InternalError("cannot read " + path);
  std::vector<ProjectRecord> records;
  try {
    const nlohmann::json doc = nlohmann::json::parse(text.str());
    for (const nlohmann::json& j : doc.at("projects")) {
      ProjectRecord p;
      p.id = j.at("id").get<std::string>();
      p.name = j.value("name", p.id);
      p.description = j.value("description", "");
      p.org = j.value("org", "");
      p.labels = j.value("labels", std::map<std::string, std::string>{});
      p.state = static_cast<ProjectState>(j.value("state", 0));
      p.created_at = common::FromUnixMicros(j.value("createdAtMicros", int64_t{0}));
      records.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return absl::InternalError("corrupt projects file " + path + ": " + e.what());
  }
  int created = 0;
  for (const ProjectRecord& p : records) {
    absl::Status s = store_.Create(p);
    if (s.ok()) ++created;
    if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  }
  return created;
}

absl::Status ProjectUseCases::CreateProject(ProjectRecord p) {
  if (absl::Status s = CheckId(p.id); !s.ok()) return s;
  if (p.name.empty()) p.name = p.id;
  p.created_at = clock_.Now();
  return store_.Create(p);
}

absl::Status ProjectUseCases::UpdateProject(ProjectRecord p) {
  if (p.id.empty()) return absl::InvalidArgumentError("project.id is required");
  absl::StatusOr<ProjectRecord> existing = store_.Get(p.id);
  if (!existing.ok()) return existing.status();
  if (p.name.empty()) p.name = existing->name;
  return store_.Update(p);
}

absl::StatusOr<ProjectRecord> ProjectUseCases::GetProject(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id is required");
  return store_.Get(id);
}

absl::Status ProjectUseCases::CheckScope(const std::string& project, const std::string& domain) {
  if (!Known(project)) {
    absl::StatusOr<ProjectRecord> p = store_.Get(project);
    if (p.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("project " + project + " not found (create it with ProjectService.CreateProject, "
                                 "or list it in runs.projects)");
    }
    if (!p.ok()) return p.status();
    std::lock_guard<std::mutex> lock(known_mu_);
    known_.insert(project);
  }
  if (std::find(domains_.begin(), domains_.end(), domain) == domains_.end()) {
    std::string known;
    for (const std::string& d : domains_) known += (known.empty() ? "" : ", ") + d;
    return absl::NotFoundError("domain " + domain + " not found in project " + project + " (domains: " + known + ")");
  }
  return absl::OkStatus();
}

bool ProjectUseCases::Known(const std::string& project) {
  std::lock_guard<std::mutex> lock(known_mu_);
  return known_.count(project) > 0;
}

absl::StatusOr<ProjectsPage> ProjectUseCases::ListProjects(const ProjectListQuery& q) {
  absl::StatusOr<std::vector<EqTerm>> terms = ParseFilters(q.filters);
  if (!terms.ok()) return terms.status();
  if (!q.sort_key.empty() && q.sort_key != "created_at" && q.sort_key != "id" && q.sort_key != "name") {
    return absl::InvalidArgumentError("sort_by.key: unknown field '" + q.sort_key + "' (created_at, id, name)");
  }
  absl::StatusOr<std::vector<ProjectRecord>> all = store_.List();
  if (!all.ok()) return all.status();
  std::vector<ProjectRecord> hits;
  for (ProjectRecord& p : *all) {
    if (Matches(p, *terms)) hits.push_back(std::move(p));
  }
  auto key = [&](const ProjectRecord& p) {
    if (q.sort_key == "id") return p.id;
    if (q.sort_key == "name") return p.name;
    return std::to_string(common::ToUnixMicros(p.created_at) + (int64_t{1} << 62));  // fixed width, orders as time
  };
  std::stable_sort(hits.begin(), hits.end(), [&](const ProjectRecord& a, const ProjectRecord& b) {
    return q.descending ? key(b) < key(a) : key(a) < key(b);
  });
  const uint32_t limit = q.limit == 0 ? 100 : q.limit;
  ProjectsPage page;
  for (uint64_t i = q.offset; i < hits.size() && page.items.size() < limit; ++i) page.items.push_back(hits[i]);
  if (q.offset + page.items.size() < hits.size()) page.next_offset = q.offset + page.items.size();
  return page;
}

}  // namespace flyte::runs
