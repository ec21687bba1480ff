#pragma once
// One versioned schema migration, embedded at build time from migrations/<dialect>/NNNN_name.sql.
#include <string>

namespace flyte::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

}  // namespace flyte::db
