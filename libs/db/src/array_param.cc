#include "flyte/db/array_param.h"

namespace flyte::db {

void PgArray::Separate() {
  if (size_++ > 0) body_ += ',';
}

PgArray& PgArray::Add(std::string_view text) {
  Separate();
  body_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') body_ += '\\';
    body_ += c;
  }
  body_ += '"';
  return *this;
}

PgArray& PgArray::Add(int64_t number) {
  Separate();
  body_ += std::to_string(number);
  return *this;
}

PgArray& PgArray::AddNull() {
  Separate();
  body_ += "NULL";
  return *this;
}

std::string IdIn(Dialect dialect, std::string_view column) {
  if (dialect == Dialect::kPostgres) return std::string(column) + " = ANY(?::bigint[])";
  return std::string(column) + " IN (SELECT value FROM json_each(?))";
}

Value IdsParam(Dialect dialect, const std::vector<int64_t>& ids) {
  if (dialect == Dialect::kPostgres) {
    PgArray a;
    for (int64_t id : ids) a.Add(id);
    return a.ToValue();
  }
  std::string json = "[";
  for (int64_t id : ids) {
    if (json.size() > 1) json += ',';
    json += std::to_string(id);
  }
  return json + "]";
}

}  // namespace flyte::db
