// Backend-neutral pieces: Row accessors, backend selection, connection strings.
#include <charconv>
#include <string>

#include "flyte/db/database.h"

namespace flyte::db {

int64_t Row::Int(size_t i) const {
  const Cell& c = cells_.at(i);
  if (const auto* v = std::get_if<int64_t>(&c)) return *v;
  if (const auto* s = std::get_if<std::string>(&c)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string Row::Str(size_t i) const {
  const Cell& c = cells_.at(i);
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  if (const auto* v = std::get_if<int64_t>(&c)) return std::to_string(*v);
  return {};
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

std::optional<std::string> Row::OptStr(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Str(i);
}

absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseConfig& config, const DatabaseOptions& options) {
  if (config.postgres) return OpenPostgres(*config.postgres, config.max_open_connections, options);
  return OpenSqlite(config.sqlite.value_or(SqliteConfig{}), options);
}

namespace {
// libpq keyword/value syntax: single-quote values, escaping backslashes and quotes.
std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}
}  // namespace

std::string PostgresConnectionString(const PostgresConfig& config) {
  std::string s = "host=" + Quote(config.host) + " port=" + std::to_string(config.port);
  if (!config.dbname.empty()) s += " dbname=" + Quote(config.dbname);
  if (!config.username.empty()) s += " user=" + Quote(config.username);
  if (!config.password.empty()) s += " password=" + Quote(config.password);
  if (!config.extra_options.empty()) s += " " + config.extra_options;
  return s;
}

}  // namespace flyte::db
