#pragma once
// Many values bound as ONE parameter, so a statement keeps one prepared form whatever their number (an IN list or
// a VALUES list would prepare one statement per count).
//
// PostgreSQL array literals ('{"a","b",NULL}') bound as one text parameter and cast in SQL (`?::text[]`,
// `?::bigint[]`). With unnest, one statement reads or writes any number of rows.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/db/database.h"

namespace flyte::db {

class PgArray {
 public:
  PgArray& Add(std::string_view text);  // quoted; any character but NUL (which PostgreSQL text cannot hold)
  PgArray& Add(const std::string& text) { return Add(std::string_view(text)); }
  PgArray& Add(const char* text) { return Add(std::string_view(text)); }
  PgArray& Add(int64_t number);
  PgArray& AddNull();
  PgArray& Add(const std::optional<std::string>& text) { return text ? Add(std::string_view(*text)) : AddNull(); }
  PgArray& Add(const std::optional<int64_t>& number) { return number ? Add(*number) : AddNull(); }

  size_t size() const { return size_; }
  std::string Literal() const { return "{" + body_ + "}"; }
  Value ToValue() const { return Literal(); }

 private:
  void Separate();

  std::string body_;
  size_t size_ = 0;
};

// "`column` is one of `ids`" for either dialect, with IdsParam(dialect, ids) bound at its one `?`:
// PostgreSQL `column = ANY(?::bigint[])`, SQLite `column IN (SELECT value FROM json_each(?))`.
std::string IdIn(Dialect dialect, std::string_view column);
Value IdsParam(Dialect dialect, const std::vector<int64_t>& ids);

}  // namespace flyte::db
