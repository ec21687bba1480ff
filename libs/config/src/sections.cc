#include "flyte/config/sections.h"

#include <string>

namespace flyte::config {

void ParseServer(Section& parent, std::string_view key, std::string* host, int* port) {
  std::optional<Section> s = parent.Child(key);
  if (!s) return;
  s->String("host", host);
  s->Int("port", port, 0, 65535);
  s->Finish();
  if (host->empty()) s->problems()->Add(s->path() + ".host", "must not be empty");
}

db::DatabaseConfig DefaultDatabase() {
  db::DatabaseConfig cfg;
  cfg.sqlite = db::SqliteConfig{};
  return cfg;
}

void ParseDatabase(Section section, db::DatabaseConfig* out) {
  std::string type;
  section.Enum("type", &type, {"sqlite", "postgres"});
  section.Int("maxIdleConnections", &out->max_idle_connections, 0, 10000);
  section.Int("maxOpenConnections", &out->max_open_connections, 1, 10000);
  section.Duration("connMaxLifeTime", &out->conn_max_lifetime);

  std::optional<Section> sqlite = section.Child("sqlite");
  std::optional<Section> postgres = section.Child("postgres");
  if (sqlite) {
    db::SqliteConfig s = out->sqlite.value_or(db::SqliteConfig{});
    sqlite->String("file", &s.file);
    sqlite->Duration("busyTimeout", &s.busy_timeout);
    sqlite->Finish();
    out->sqlite = s;
  }
  if (postgres) {
    db::PostgresConfig p = out->postgres.value_or(db::PostgresConfig{});
    postgres->String("host", &p.host);
    postgres->Int("port", &p.port, 1, 65535);
    postgres->String("dbname", &p.dbname);
    postgres->String("username", &p.username);
    postgres->Secret("password", &p.password);
    postgres->String("extraOptions", &p.extra_options);
    postgres->Finish();
    out->postgres = p;
  }
  section.Finish();

  Problems* problems = section.problems();
  if (sqlite && postgres) {
    problems->Add(section.path(), "give only one of sqlite, postgres");
  }
  if (type == "postgres" && !postgres) {
    problems->Add(section.path() + ".type", "is postgres but there is no database.postgres section");
  }
  if (type == "sqlite" && postgres) {
    problems->Add(section.path() + ".type", "is sqlite but a database.postgres section is given");
  }
  if (out->postgres) {
    if (out->postgres->dbname.empty()) problems->Add(section.path() + ".postgres.dbname", "is required");
    if (out->postgres->username.empty()) problems->Add(section.path() + ".postgres.username", "is required");
    if (!sqlite) out->sqlite.reset();
  } else if (!out->sqlite) {
    out->sqlite = db::SqliteConfig{};
  }
  // An empty file name would make SQLite open a private temporary database: never what an operator meant.
  if (out->sqlite && out->sqlite->file.empty()) {
    problems->Add(section.path() + ".sqlite.file", "must not be empty");
  }
  if (out->max_idle_connections > out->max_open_connections) {
    problems->Add(section.path() + ".maxIdleConnections", "must not exceed maxOpenConnections");
  }
}

void ParseLogger(Section section, LoggerConfig* out) {
  section.Int("level", &out->level, 0, 6);
  section.Bool("show-source", &out->show_source);
  section.Finish();
}

}  // namespace flyte::config
