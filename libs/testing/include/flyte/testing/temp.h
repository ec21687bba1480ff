#pragma once
// Temporary directories and SQLite files that clean up after themselves. Not thread-safe (one per test).
#include <filesystem>
#include <string>

#include "flyte/db/config.h"

namespace flyte::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "flyte-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A path for a fresh SQLite database file (not created yet) inside its own TempDir.
class TempSqlite {
 public:
  TempSqlite() : dir_("flyte-sqlite") {}
  std::string file() const { return (dir_.path() / "test.db").string(); }
  db::SqliteConfig config() const {
    db::SqliteConfig c;
    c.file = file();
    return c;
  }
  db::DatabaseConfig database_config() const {
    db::DatabaseConfig c;
    c.sqlite = config();
    return c;
  }

 private:
  TempDir dir_;
};

}  // namespace flyte::testing
