#pragma once
// PostgreSQL array literals ('{"a","b",NULL}') bound as one text parameter and cast in SQL (`?::text[]`,
// `?::bigint[]`). With unnest, one statement then reads or writes any number of rows and keeps one prepared form
// (a VALUES list would prepare one statement per row count).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace flyte::db
