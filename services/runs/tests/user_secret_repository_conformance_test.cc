// Conformance suite of the UserSecretRepository port (SecretService's sealed values), and the secret use cases on
// top of it (sealing, scopes, resolution for the executor): every case runs against SQLite and PostgreSQL.
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "flyte/common/digest.h"
#include "service/secret_use_cases.h"
#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::At;
using flyte::runs::test::Backend;
using Code = absl::StatusCode;

namespace {

UserSecretRecord Sealed(const std::string& project, const std::string& domain, const std::string& name, int64_t at_s) {
  UserSecretRecord r;
  r.id = UserSecretKey{"o", project, domain, name};
  r.type = 0;
  r.sealed_value = std::string("\x00\x01\xff sealed-", 11) + name;  // bytes, verbatim
  r.created_at = At(at_s);
  return r;
}

bool Contains(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("user secrets: create, get, update, list by scope with pages, delete, seen by another replica",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  UserSecretRepository& secrets = b.store->UserSecrets();
  REQUIRE(secrets.Create(Sealed("p", "d", "b", 1)).ok());
  REQUIRE(secrets.Create(Sealed("p", "d", "a", 2)).ok());
  REQUIRE(secrets.Create(Sealed("p", "", "a", 3)).ok());
  REQUIRE(secrets.Create(Sealed("", "", "a", 4)).ok());

  absl::Status again = secrets.Create(Sealed("p", "d", "a", 9));
  CHECK(again.code() == Code::kAlreadyExists);
  CHECK(Contains(std::string(again.message()), "secret a"));

  std::unique_ptr<Store> other = b.Open();
  absl::StatusOr<UserSecretRecord> got = other->UserSecrets().Get(UserSecretKey{"o", "p", "d", "a"});
  REQUIRE(got.ok());
  CHECK(*got == Sealed("p", "d", "a", 2));
  CHECK(other->UserSecrets().Get(UserSecretKey{"o", "", "", "a"})->created_at == At(4));
  absl::Status missing = other->UserSecrets().Get(UserSecretKey{"o", "p", "d", "zz"}).status();
  CHECK(missing.code() == Code::kNotFound);
  CHECK(Contains(std::string(missing.message()), "secret zz"));

  UserSecretRecord changed = Sealed("p", "d", "a", 50);
  changed.sealed_value = "other";
  changed.type = 1;
  REQUIRE(secrets.Update(changed).ok());
  got = secrets.Get(UserSecretKey{"o", "p", "d", "a"});
  CHECK(got->sealed_value == "other");
  CHECK(got->type == 1);
  CHECK(got->created_at == At(2));  // kept
  CHECK(secrets.Update(Sealed("p", "d", "nope", 1)).code() == Code::kNotFound);

  absl::StatusOr<std::vector<UserSecretRecord>> page = secrets.List("o", "p", "d", "", 1);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK(page->front().id.name == "a");
  page = secrets.List("o", "p", "d", "a", 10);
  REQUIRE(page->size() == 1);
  CHECK(page->front().id.name == "b");
  CHECK(secrets.List("o", "p", "", "", 10)->size() == 1);
  CHECK(secrets.List("o", "", "", "", 10)->size() == 1);
  CHECK(secrets.List("other-org", "p", "d", "", 10)->empty());

  REQUIRE(secrets.Delete(UserSecretKey{"o", "p", "d", "a"}).ok());
  CHECK(secrets.Get(UserSecretKey{"o", "p", "d", "a"}).status().code() == Code::kNotFound);
  CHECK(secrets.Get(UserSecretKey{"o", "p", "", "a"}).ok());  // other scopes untouched
  CHECK(secrets.Delete(UserSecretKey{"o", "p", "d", "a"}).code() == Code::kNotFound);
}

TEST_CASE("secret use cases: values sealed at rest, never returned but to Resolve, most specific scope wins",
          "[service][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  flyte::common::FakeClock clock;
  const std::string key = flyte::common::RandomBytes(32);
  SecretUseCases secrets(b.store->UserSecrets(), clock, key);
  const std::string plaintext = "pl41ntext-v4lue-that-must-not-be-stored";
  REQUIRE(secrets.Create(UserSecretKey{"o", "", "", "token"}, 0, "org-wide").ok());
  REQUIRE(secrets.Create(UserSecretKey{"o", "p", "d", "token"}, 0, plaintext).ok());
  REQUIRE(secrets.Create(UserSecretKey{"o", "p", "", "bin"}, 1, std::string("\x00\xff", 2)).ok());
  CHECK(secrets.Create(UserSecretKey{"o", "p", "d", "token"}, 0, "x").code() == Code::kAlreadyExists);

  // Stored sealed: the row holds neither the value nor anything that opens under another key.
  UserSecretRecord row = *b.store->UserSecrets().Get(UserSecretKey{"o", "p", "d", "token"});
  CHECK(!Contains(row.sealed_value, plaintext));
  if (b.sqlite) {
    std::ifstream file(b.sqlite->file(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::ifstream wal(b.sqlite->file() + "-wal", std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(wal), std::istreambuf_iterator<char>());
    CHECK(Contains(bytes, "token"));
    CHECK(!Contains(bytes, plaintext));
  }

  absl::StatusOr<UserSecretRecord> got = secrets.Get(UserSecretKey{"o", "p", "d", "token"});
  REQUIRE(got.ok());
  CHECK(got->sealed_value.empty());
  absl::StatusOr<SecretPage> page = secrets.List("o", "p", "d", 0, "");
  REQUIRE(page.ok());
  REQUIRE(page->secrets.size() == 1);
  CHECK(page->secrets[0].sealed_value.empty());
  CHECK(page->next_token.empty());

  absl::StatusOr<std::vector<std::string>> values = secrets.Resolve("o", "p", "d", {"token", "bin"});
  REQUIRE(values.ok());
  CHECK(*values == std::vector<std::string>{plaintext, std::string("\x00\xff", 2)});
  CHECK(*secrets.Resolve("o", "p", "staging", {"token"}) == std::vector<std::string>{"org-wide"});
  absl::Status missing = secrets.Resolve("o", "p", "d", {"token", "nope"}).status();
  CHECK(missing.code() == Code::kNotFound);
  CHECK(Contains(std::string(missing.message()), "secret nope not found"));

  REQUIRE(secrets.Update(UserSecretKey{"o", "p", "d", "token"}, 0, "rotated").ok());
  CHECK(secrets.Resolve("o", "p", "d", {"token"})->front() == "rotated");

  // Another key (a runs.secretsKey changed under existing values) does not open them, and says so.
  SecretUseCases wrong_key(b.store->UserSecrets(), clock, flyte::common::RandomBytes(32));
  absl::Status unreadable = wrong_key.Resolve("o", "p", "d", {"token"}).status();
  CHECK(unreadable.code() == Code::kDataLoss);
  CHECK(Contains(std::string(unreadable.message()), "secret token"));
  // A sealed value moved onto another secret's row does not open there either.
  UserSecretRecord moved = *b.store->UserSecrets().Get(UserSecretKey{"o", "", "", "token"});
  moved.sealed_value = row.sealed_value;
  REQUIRE(b.store->UserSecrets().Update(moved).ok());
  CHECK(secrets.Resolve("o", "p", "staging", {"token"}).status().code() == Code::kDataLoss);

  CHECK(Contains(std::string(secrets.Create(UserSecretKey{"o", "p", "d", ""}, 0, "x").message()), "id.name"));
  CHECK(Contains(std::string(secrets.Create(UserSecretKey{"o", "", "d", "n"}, 0, "x").message()), "id.domain"));
  CHECK(Contains(std::string(secrets.List("o", "", "d", 0, "").status().message()), "domain"));
  REQUIRE(secrets.Delete(UserSecretKey{"o", "p", "d", "token"}).ok());
  CHECK(secrets.Get(UserSecretKey{"o", "p", "d", "token"}).status().code() == Code::kNotFound);
}
