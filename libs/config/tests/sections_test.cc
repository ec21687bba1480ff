#include <cstdlib>

#include <catch2/catch.hpp>

#include "flyte/config/sections.h"

using flyte::config::Document;
using flyte::config::Problems;
using namespace std::chrono_literals;

namespace {

struct Parsed {
  flyte::db::DatabaseConfig db = flyte::config::DefaultDatabase();
  Problems problems;
};

Parsed ParseDb(const std::string& yaml) {
  Parsed p;
  auto doc = Document::Parse(yaml);
  REQUIRE(doc.ok());
  auto root = doc->Root(&p.problems);
  if (auto s = root.Child("database")) flyte::config::ParseDatabase(*s, &p.db);
  root.Finish();
  return p;
}

}  // namespace

TEST_CASE("database defaults to SQLite ./runs.db", "[unit][config]") {
  Parsed p = ParseDb("{}");
  CHECK(p.problems.ok());
  REQUIRE(p.db.sqlite);
  CHECK(p.db.sqlite->file == "./runs.db");
  CHECK_FALSE(p.db.postgres);
}

TEST_CASE("the seed's SQLite and manager sections parse", "[unit][config]") {
  Parsed p = ParseDb("database:\n  type: sqlite\n  sqlite:\n    file: flyte.db\n");
  CHECK(p.problems.ok());
  REQUIRE(p.db.sqlite);
  CHECK(p.db.sqlite->file == "flyte.db");
}

TEST_CASE("the seed's PostgreSQL section parses", "[unit][config]") {
  Parsed p = ParseDb(R"(
database:
  postgres:
    host: "localhost"
    port: 5433
    dbname: "flyte_runs"
    username: "postgres"
    password: "postgres"
    extraOptions: "sslmode=disable"
  maxIdleConnections: 10
  maxOpenConnections: 100
  connMaxLifeTime: 1h
)");
  INFO(p.problems.ToString());
  CHECK(p.problems.ok());
  CHECK_FALSE(p.db.sqlite);
  REQUIRE(p.db.postgres);
  CHECK(p.db.postgres->host == "localhost");
  CHECK(p.db.postgres->port == 5433);
  CHECK(p.db.postgres->dbname == "flyte_runs");
  CHECK(p.db.postgres->username == "postgres");
  CHECK(p.db.postgres->password == "postgres");
  CHECK(p.db.postgres->extra_options == "sslmode=disable");
  CHECK(p.db.max_idle_connections == 10);
  CHECK(p.db.max_open_connections == 100);
  CHECK(p.db.conn_max_lifetime == 3600s);
}

TEST_CASE("database problems are all reported", "[unit][config]") {
  Parsed p = ParseDb(R"(
database:
  type: postgres
  sqlte: {file: x}
  postgres:
    port: 0
    pasword: x
  maxIdleConnections: 50
  maxOpenConnections: 5
  connMaxLifeTime: forever
)");
  std::vector<std::string> want = {
      "database.connMaxLifeTime: expected a duration like 1h, 30s, 500ms, got 'forever'",
      "database.postgres.port: expected an integer 1..65535, got '0'",
      "database.postgres.pasword: unknown key",
      "database.sqlte: unknown key",
      "database.postgres.dbname: is required",
      "database.postgres.username: is required",
      "database.maxIdleConnections: must not exceed maxOpenConnections",
  };
  CHECK(p.problems.list() == want);
}

TEST_CASE("type must agree with the section given; only one database", "[unit][config]") {
  CHECK(ParseDb("database: {type: postgres}").problems.list() ==
        std::vector<std::string>{"database.type: is postgres but there is no database.postgres section"});
  CHECK(ParseDb("database: {type: mysql}").problems.list() ==
        std::vector<std::string>{"database.type: expected one of sqlite|postgres, got 'mysql'"});
  CHECK(ParseDb("database: {sqlite: {file: a.db}, postgres: {dbname: d, username: u}}").problems.list() ==
        std::vector<std::string>{"database: give only one of sqlite, postgres"});
  CHECK(ParseDb("database: {sqlite: {file: ''}}").problems.list() ==
        std::vector<std::string>{"database.sqlite.file: must not be empty"});
}

TEST_CASE("logger section follows the seed", "[unit][config]") {
  auto doc = Document::Parse("logger:\n  level: 5\n  show-source: true\n  colour: red\n");
  REQUIRE(doc.ok());
  Problems problems;
  flyte::config::LoggerConfig logger;
  auto root = doc->Root(&problems);
  flyte::config::ParseLogger(*root.Child("logger"), &logger);
  root.Finish();
  CHECK(logger.level == 5);
  CHECK(logger.show_source);
  CHECK(problems.list() == std::vector<std::string>{"logger.colour: unknown key"});
}

TEST_CASE("a server section: defaults when absent, every problem with its path", "[unit][config]") {
  auto parse = [](const std::string& yaml, std::string* host, int* port) {
    Problems problems;
    auto doc = Document::Parse(yaml);
    REQUIRE(doc.ok());
    auto root = doc->Root(&problems);
    if (auto svc = root.Child("svc")) {
      flyte::config::ParseServer(*svc, "server", host, port);
      svc->Finish();
    }
    root.Finish();
    return problems.list();
  };
  std::string host = "0.0.0.0";
  int port = 8090;
  CHECK(parse("svc: {}\n", &host, &port).empty());
  CHECK(host == "0.0.0.0");
  CHECK(port == 8090);

  CHECK(parse("svc: {server: {host: 127.0.0.1, port: 0}}\n", &host, &port).empty());
  CHECK(host == "127.0.0.1");
  CHECK(port == 0);

  CHECK(parse("svc: {server: {host: '', port: 70000, tls: true}}\n", &host, &port) ==
        std::vector<std::string>{"svc.server.port: expected an integer 0..65535, got '70000'",
                                 "svc.server.tls: unknown key", "svc.server.host: must not be empty"});
}
