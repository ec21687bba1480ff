#include "flyte/db/pg_array.h"

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

}  // namespace flyte::db
