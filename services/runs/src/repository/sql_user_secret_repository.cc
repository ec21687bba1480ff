#include "repository/sql_user_secret_repository.h"

#include <optional>

#include "repository/sql_common.h"

namespace flyte::runs {
namespace {

constexpr char kCols[] = "org, project, domain, name, type, sealed_value, created_at";

// Names the secret and its scope, never its value.
std::string Describe(const UserSecretKey& id) {
  std::string scope = id.org;
  if (!id.project.empty()) scope += "/" + id.project;
  if (!id.domain.empty()) scope += "/" + id.domain;
  return "secret " + id.name + " (in " + scope + ")";
}

UserSecretRecord FromRow(const Row& r) {
  UserSecretRecord s;
  s.id = UserSecretKey{r.Str(0), r.Str(1), r.Str(2), r.Str(3)};
  s.type = static_cast<int>(r.Int(4));
  s.sealed_value = r.Str(5);
  s.created_at = common::FromUnixMicros(r.Int(6));
  return s;
}

}  // namespace

absl::Status SqlUserSecretRepository::Create(const UserSecretRecord& s) {
  int64_t written = 0;
  absl::Status st = db_.Write("CreateUserSecret", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        std::string("INSERT INTO user_secrets (") + kCols +
            ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org, project, domain, name) DO NOTHING",
        {s.id.org, s.id.project, s.id.domain, s.id.name, static_cast<int64_t>(s.type), Bytes{s.sealed_value},
         Micros(s.created_at)});
    if (!n.ok()) return n.status();
    written = *n;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (written == 0) return absl::AlreadyExistsError(Describe(s.id) + " already exists");
  return absl::OkStatus();
}

absl::Status SqlUserSecretRepository::Update(const UserSecretRecord& s) {
  int64_t written = 0;
  absl::Status st = db_.Write("UpdateUserSecret", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Exec(
        "UPDATE user_secrets SET type = ?, sealed_value = ? WHERE org = ? AND project = ? AND domain = ? AND name = ?",
        {static_cast<int64_t>(s.type), Bytes{s.sealed_value}, s.id.org, s.id.project, s.id.domain, s.id.name});
    if (!n.ok()) return n.status();
    written = *n;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (written == 0) return absl::NotFoundError(Describe(s.id) + " not found");
  return absl::OkStatus();
}

absl::StatusOr<UserSecretRecord> SqlUserSecretRepository::Get(const UserSecretKey& id) {
  std::optional<UserSecretRecord> out;
  absl::Status st = db_.Read("GetUserSecret", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows = tx.Query(std::string("SELECT ") + kCols +
                                             " FROM user_secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
                                         {id.org, id.project, id.domain, id.name});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) out = FromRow(rows->front());
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(Describe(id) + " not found");
  return *std::move(out);
}

absl::Status SqlUserSecretRepository::Delete(const UserSecretKey& id) {
  int64_t deleted = 0;
  absl::Status st = db_.Write("DeleteUserSecret", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> n =
        tx.Exec("DELETE FROM user_secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
                {id.org, id.project, id.domain, id.name});
    if (!n.ok()) return n.status();
    deleted = *n;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (deleted == 0) return absl::NotFoundError(Describe(id) + " not found");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UserSecretRecord>> SqlUserSecretRepository::List(const std::string& org,
                                                                            const std::string& project,
                                                                            const std::string& domain,
                                                                            const std::string& after_name, int limit) {
  std::vector<UserSecretRecord> out;
  absl::Status st = db_.Read("ListUserSecrets", [&](Tx& tx) -> absl::Status {
    absl::StatusOr<Rows> rows =
        tx.Query(std::string("SELECT ") + kCols +
                     " FROM user_secrets WHERE org = ? AND project = ? AND domain = ? AND name > ? ORDER BY name LIMIT ?",
                 {org, project, domain, after_name, static_cast<int64_t>(limit)});
    if (!rows.ok()) return rows.status();
    for (const Row& r : *rows) out.push_back(FromRow(r));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace flyte::runs
