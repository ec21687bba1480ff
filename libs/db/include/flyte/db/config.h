#pragma once
// Database section of every service config (the seed's `database:` YAML). Exactly one of sqlite/postgres is used:
// postgres when `database.postgres` is present, SQLite otherwise.
#include <chrono>
#include <optional>
#include <string>

namespace flyte::db {

struct SqliteConfig {
  std::string file = "./runs.db";
  std::chrono::milliseconds busy_timeout{5000};
};

struct PostgresConfig {
  std::string host = "localhost";
  int port = 5432;
  std::string dbname;
  std::string username;
  std::string password;       // resolved: from `password`, `passwordEnv` or `passwordPath`
  std::string extra_options;  // appended to the connection string, e.g. "sslmode=disable"
};

struct DatabaseConfig {
  std::optional<SqliteConfig> sqlite;      // default when neither is given
  std::optional<PostgresConfig> postgres;
  int max_idle_connections = 10;
  int max_open_connections = 16;
  std::chrono::seconds conn_max_lifetime{3600};
};

// "postgres host:port/dbname" or "sqlite FILE", for logs and start-up errors (never includes the password).
inline std::string Describe(const DatabaseConfig& db) {
  if (db.postgres) {
    return "postgres " + db.postgres->host + ":" + std::to_string(db.postgres->port) + "/" + db.postgres->dbname;
  }
  return "sqlite " + (db.sqlite ? db.sqlite->file : std::string("?"));
}

}  // namespace flyte::db
