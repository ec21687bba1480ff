#pragma once
// Parsers for the sections every service config shares: `database:`, `logger:` and a server's `{host, port}` (keys
// as in the seeds).
#include <string>
#include <string_view>

#include "flyte/config/yaml.h"
#include "flyte/db/config.h"

namespace flyte::config {

// `logger:` -- level follows the seed's numbering (0 panic, 1 fatal, 2 error, 3 warn, 4 info, 5 debug, 6 trace).
struct LoggerConfig {
  int level = 4;
  bool show_source = false;
};

// `database:`
//   type: sqlite | postgres          (optional; must agree with the sub-section given)
//   sqlite: {file, busyTimeout}
//   postgres: {host, port, dbname, username, password | passwordEnv | passwordPath, extraOptions}
//   maxIdleConnections, maxOpenConnections, connMaxLifeTime (duration)
// Leaves `out` holding exactly one of sqlite/postgres: SQLite (with its defaults) when neither is given. Giving
// both is a problem. Every problem goes to the section's Problems.
void ParseDatabase(Section section, db::DatabaseConfig* out);
// Same defaults ParseDatabase produces for a config without a `database:` section.
db::DatabaseConfig DefaultDatabase();

void ParseLogger(Section section, LoggerConfig* out);

// `<key>: {host, port}` under `parent`, where a service listens; absent, `host` and `port` keep their defaults.
// host must not be empty; port 0..65535 (0: any free port).
void ParseServer(Section& parent, std::string_view key, std::string* host, int* port);

}  // namespace flyte::config
