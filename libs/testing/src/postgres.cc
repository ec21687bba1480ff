#include "flyte/testing/postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <pqxx/pqxx>

namespace flyte::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("cannot bind a free port");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string FindBinDir() {
  if (const char* env = std::getenv("FLYTE_PG_BINDIR"); env && *env) return env;
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (std::filesystem::exists(dir + "/initdb") && std::filesystem::exists(dir + "/pg_ctl")) return dir;
  }
  throw std::runtime_error(
      "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql or set FLYTE_PG_BINDIR");
}

}  // namespace

ThrowawayPostgres& ThrowawayPostgres::Instance() {
  static ThrowawayPostgres instance;  // destroyed (server stopped) at exit
  return instance;
}

void ThrowawayPostgres::RunAsPostgres(const std::string& command) {
  std::string full = geteuid() == 0 ? "runuser -u postgres -- " + command : command;
  full += " >>" + (root_ / "setup.log").string() + " 2>&1";
  if (std::system(full.c_str()) != 0) {
    throw std::runtime_error("command failed: " + full + " (see " + (root_ / "setup.log").string() + " and " +
                             (root_ / "server.log").string() + ")");
  }
}

ThrowawayPostgres::ThrowawayPostgres() {
  bin_dir_ = FindBinDir();
  std::string tmpl = "/tmp/flyte-pg-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("no postgres user to run initdb as");
    if (chown(root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
  }
  std::filesystem::permissions(root_, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                          std::filesystem::perms::others_exec);
  data_dir_ = (root_ / "data").string();
  socket_dir_ = root_.string();
  port_ = FreePort();
  RunAsPostgres(bin_dir_ + "/initdb -D " + data_dir_ + " -A trust -U postgres -E UTF8 --locale=C --no-sync");
  Start();
}

void ThrowawayPostgres::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return;
  RunAsPostgres(bin_dir_ + "/pg_ctl -D " + data_dir_ + " -l " + (root_ / "server.log").string() + " -w -t 60 -o \"-p " +
                std::to_string(port_) + " -k " + socket_dir_ +
                " -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                " -c max_connections=300\" start");
  running_ = true;
  if (!watchdog_started_) {
    // A crashed test binary never runs the destructor: a detached watchdog stops the server and removes its
    // directory once this process is gone, so servers never pile up.
    watchdog_started_ = true;
    const std::string as_pg = geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string cmd = "setsid sh -c 'while kill -0 " + std::to_string(getpid()) +
                            " 2>/dev/null; do sleep 1; done; " + as_pg + bin_dir_ + "/pg_ctl -D " + data_dir_ +
                            " -m immediate stop; rm -rf " + root_.string() + "' >/dev/null 2>&1 </dev/null &";
    if (std::system(cmd.c_str()) != 0) std::cerr << "could not start the postgres watchdog\n";
  }
}

void ThrowawayPostgres::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return;
  RunAsPostgres(bin_dir_ + "/pg_ctl -D " + data_dir_ + " -m fast -w stop");
  running_ = false;
}

ThrowawayPostgres::~ThrowawayPostgres() {
  try {
    Stop();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

db::PostgresConfig ThrowawayPostgres::CreateDatabase() {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    name = "t" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  }
  db::PostgresConfig c;
  c.host = socket_dir_;
  c.port = port_;
  c.username = "postgres";
  c.dbname = "postgres";
  pqxx::connection conn("host=" + c.host + " port=" + std::to_string(port_) + " user=postgres dbname=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + name);
  c.dbname = name;
  return c;
}

db::DatabaseConfig ThrowawayPostgres::CreateDatabaseConfig(int max_open_connections) {
  db::DatabaseConfig c;
  c.postgres = CreateDatabase();
  c.max_open_connections = max_open_connections;
  return c;
}

}  // namespace flyte::testing
