#pragma once
// One throwaway PostgreSQL server per test binary: started lazily on first use (initdb + pg_ctl as the postgres
// user, unix socket only, fsync off), stopped at exit. Each test asks for its own fresh database.
// If the PostgreSQL binaries are missing or the server cannot start, Instance() throws std::runtime_error, so a
// test can never pass silently without PostgreSQL.
#include <filesystem>
#include <mutex>
#include <string>

#include "flyte/db/config.h"

namespace flyte::testing {

class ThrowawayPostgres {
 public:
  static ThrowawayPostgres& Instance();  // thread-safe

  // Creates an empty database with a unique name and returns how to reach it.
  db::PostgresConfig CreateDatabase();
  db::DatabaseConfig CreateDatabaseConfig(int max_open_connections = 8);

  // Stop (fast shutdown: clients see their connections drop) and start again on the same port/socket, for
  // outage tests.
  void Stop();
  void Start();
  bool running() const { return running_; }

  int port() const { return port_; }
  const std::string& socket_dir() const { return socket_dir_; }

  ~ThrowawayPostgres();

 private:
  ThrowawayPostgres();
  void RunAsPostgres(const std::string& command);

  std::filesystem::path root_;
  std::string data_dir_, socket_dir_, bin_dir_;
  int port_ = 0;
  bool running_ = false;
  bool watchdog_started_ = false;
  int next_db_ = 0;
  std::mutex mu_;
};

}  // namespace flyte::testing
