#include "service/secret_use_cases.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "flyte/common/aead.h"

namespace flyte::runs {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kMaxValueBytes = 1 << 20;

// The sealed value is bound to where it is stored: a value copied onto another secret's row does not open.
std::string AssociatedData(const UserSecretKey& id) {
  return absl::StrCat(id.org, "/", id.project, "/", id.domain, "/", id.name);
}

absl::Status Validate(const UserSecretKey& id) {
  if (id.name.empty()) return absl::InvalidArgumentError("id.name is required");
  if (id.name.size() > 253) return absl::InvalidArgumentError("id.name is longer than 253 characters");
  if (id.org.empty()) return absl::InvalidArgumentError("id.organization is required");
  if (id.project.empty() && !id.domain.empty()) {
    return absl::InvalidArgumentError("id.domain " + id.domain + " given without id.project");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UserSecretRecord> SecretUseCases::Seal(const UserSecretKey& id, int type, const std::string& value) {
  if (absl::Status s = Validate(id); !s.ok()) return s;
  if (value.size() > kMaxValueBytes) return absl::InvalidArgumentError("secret_spec.value is larger than 1 MiB");
  absl::StatusOr<std::string> sealed = common::SealAes256Gcm(key_, value, AssociatedData(id));
  if (!sealed.ok()) return sealed.status();
  UserSecretRecord r;
  r.id = id;
  r.type = type;
  r.sealed_value = *std::move(sealed);
  r.created_at = clock_.Now();
  return r;
}

absl::Status SecretUseCases::Create(const UserSecretKey& id, int type, const std::string& value) {
  absl::StatusOr<UserSecretRecord> r = Seal(id, type, value);
  if (!r.ok()) return r.status();
  return store_.Create(*r);
}

absl::Status SecretUseCases::Update(const UserSecretKey& id, int type, const std::string& value) {
  absl::StatusOr<UserSecretRecord> r = Seal(id, type, value);
  if (!r.ok()) return r.status();
  return store_.Update(*r);
}

absl::StatusOr<UserSecretRecord> SecretUseCases::Get(const UserSecretKey& id) {
  if (absl::Status s = Validate(id); !s.ok()) return s;
  absl::StatusOr<UserSecretRecord> r = store_.Get(id);
  if (!r.ok()) return r.status();
  r->sealed_value.clear();
  return r;
}

absl::Status SecretUseCases::Delete(const UserSecretKey& id) {
  if (absl::Status s = Validate(id); !s.ok()) return s;
  return store_.Delete(id);
}

absl::StatusOr<SecretPage> SecretUseCases::List(const std::string& org, const std::string& project,
                                                const std::string& domain, int limit, const std::string& token) {
  if (org.empty()) return absl::InvalidArgumentError("organization is required");
  if (project.empty() && !domain.empty()) {
    return absl::InvalidArgumentError("domain " + domain + " given without project");
  }
  if (limit < 0) return absl::InvalidArgumentError("limit must not be negative");
  int page = limit == 0 ? kDefaultPageSize : std::min(limit, kMaxPageSize);
  // One more than the page, to know whether another page follows.
  absl::StatusOr<std::vector<UserSecretRecord>> rows = store_.List(org, project, domain, token, page + 1);
  if (!rows.ok()) return rows.status();
  SecretPage out;
  if (static_cast<int>(rows->size()) > page) {
    rows->resize(page);
    out.next_token = rows->back().id.name;
  }
  for (UserSecretRecord& r : *rows) r.sealed_value.clear();
  out.secrets = *std::move(rows);
  return out;
}

absl::StatusOr<std::vector<std::string>> SecretUseCases::Resolve(const std::string& org, const std::string& project,
                                                                 const std::string& domain,
                                                                 const std::vector<std::string>& names) {
  if (org.empty()) return absl::InvalidArgumentError("org is required");
  std::vector<std::string> values;
  for (const std::string& name : names) {
    if (name.empty()) return absl::InvalidArgumentError("names: a secret name is empty");
    const UserSecretKey scopes[] = {{org, project, domain, name}, {org, project, "", name}, {org, "", "", name}};
    absl::StatusOr<UserSecretRecord> found = absl::NotFoundError("");
    for (const UserSecretKey& id : scopes) {
      found = store_.Get(id);
      if (found.status().code() != absl::StatusCode::kNotFound) break;
    }
    if (found.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("secret ", name, " not found in ", org, "/", project, "/", domain,
                                              " (nor in project ", project, " or organization ", org, ")"));
    }
    if (!found.ok()) return found.status();
    absl::StatusOr<std::string> value = common::OpenAes256Gcm(key_, found->sealed_value, AssociatedData(found->id));
    if (!value.ok()) {
      return absl::DataLossError(absl::StrCat("secret ", name, " does not decrypt with runs.secretsKey (",
                                              value.status().message(), ")"));
    }
    values.push_back(*std::move(value));
  }
  return values;
}

}  // namespace flyte::runs
