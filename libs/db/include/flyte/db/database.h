#pragma once
// A small, driver-neutral SQL layer over SQLite (SQLiteCpp) and PostgreSQL (libpqxx). Callers write SQL with `?`
// placeholders (rewritten to $1.. for PostgreSQL) and get rows of plain values back; driver types and exceptions
// never cross this header.
//
// Error codes (every call): kUnavailable = database unreachable / connection lost (retryable);
// kAlreadyExists = unique or primary-key violation; kInternal = anything else (details go to stderr only).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/db/config.h"
#include "flyte/db/migration.h"

namespace flyte::db {

enum class Dialect { kSqlite, kPostgres };

// Binary data (BLOB / BYTEA), stored verbatim.
struct Bytes {
  std::string data;
};

// A bound parameter: NULL, integer, text or bytes.
using Value = std::variant<std::nullptr_t, int64_t, std::string, Bytes>;

// Convenience for optional columns.
template <class T>
Value Nullable(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(*v);
  } else {
    return std::string(*v);
  }
}

// One result row. Integers come back as int64, text and bytes as std::string, NULL as nullopt.
class Row {
 public:
  using Cell = std::variant<std::nullptr_t, int64_t, std::string>;
  explicit Row(std::vector<Cell> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(cells_.at(i)); }
  int64_t Int(size_t i) const;              // 0 for NULL; parses text
  std::string Str(size_t i) const;          // "" for NULL; formats integers
  std::optional<int64_t> OptInt(size_t i) const;
  std::optional<std::string> OptStr(size_t i) const;

 private:
  std::vector<Cell> cells_;
};

using Rows = std::vector<Row>;

// A connection inside a unit of work. Not thread-safe; valid only inside the callback that received it.
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement with `?` placeholders and returns its rows (statements with RETURNING included).
  virtual absl::StatusOr<Rows> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs one statement and returns the number of affected rows.
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Tells the PostgreSQL planner-statistics keeper about rows a statement inserted that Exec could not see (an
  // INSERT inside a WITH, say); Exec of a plain INSERT counts its own. No-op on SQLite.
  virtual void CountInserted(std::string_view table, int64_t rows) {
    (void)table;
    (void)rows;
  }
};

// Called once per unit of work with its label and wall time, e.g. to feed flyte_db_query_duration_seconds.
using QueryHook = std::function<void(std::string_view op, double seconds)>;

struct DatabaseOptions {
  QueryHook query_hook;   // optional
  int sqlite_readers = 4; // SQLite reader connections (plus one writer)
  // Table Migrate() records applied versions in. Services sharing one database (flyte-manager, or runs and queue
  // on one PostgreSQL database) each need their own, since every service numbers its migrations from 1.
  std::string migrations_table = "schema_migrations";
  // PostgreSQL: application_name of every pooled connection, as pg_stat_activity shows it ('' = libpq's default).
  std::string application_name;
  // PostgreSQL: ANALYZE young, fast-growing tables (see src/pg_statistics.h). Off only in tests of that keeper.
  bool keep_planner_statistics = true;
};

// Thread-safe. SQLite: one writer connection (serialised by a mutex, BEGIN IMMEDIATE) and a few readers, all in
// WAL mode. PostgreSQL: a pool of up to max_open_connections; broken connections are dropped and replaced.
class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs `fn` in a read-write transaction: commits when it returns OK, rolls back otherwise (the status of `fn`
  // is returned unchanged). `fn` may run a second time if the connection was found broken before any work
  // committed (PostgreSQL), so it must only touch the database and its own locals.
  virtual absl::Status Write(std::string_view op, const std::function<absl::Status(Tx&)>& fn) = 0;
  // Runs `fn`, which issues exactly one statement, as that statement's own transaction: on PostgreSQL without the
  // BEGIN and COMMIT round trips of Write. Not retried on a broken connection (the statement may have committed),
  // so the statement should be idempotent. SQLite: Write.
  virtual absl::Status WriteStatement(std::string_view op, const std::function<absl::Status(Tx&)>& fn) {
    return Write(op, fn);
  }
  // As Write, but the transaction's statements use generic plans: for statements over unnest() of array
  // parameters, which PostgreSQL would otherwise re-plan on each call for its array sizes. PostgreSQL: BEGIN and
  // `SET LOCAL plan_cache_mode = force_generic_plan` in one round trip. SQLite: Write.
  virtual absl::Status WriteGenericPlans(std::string_view op, const std::function<absl::Status(Tx&)>& fn) {
    return Write(op, fn);
  }
  // Runs `fn` against a read-only snapshot.
  virtual absl::Status Read(std::string_view op, const std::function<absl::Status(Tx&)>& fn) = 0;
  // Runs `fn`, which issues exactly one query, as that query's own transaction (a statement sees one snapshot):
  // on PostgreSQL without the BEGIN and COMMIT round trips of Read. SQLite: Read.
  virtual absl::Status ReadStatement(std::string_view op, const std::function<absl::Status(Tx&)>& fn) {
    return Read(op, fn);
  }
  // One cheap round trip. kUnavailable if the database cannot be reached.
  virtual absl::Status Ping() = 0;
  // PostgreSQL: whether `backend_pid` (a NOTIFY's sender) is one of this pool's own connections, i.e. the
  // change it announces was made through this Database. Always false on SQLite.
  virtual bool IsOwnSession(int backend_pid) const {
    (void)backend_pid;
    return false;
  }
  // Applies missing migrations in version order, each in its own transaction, recording them in
  // <DatabaseOptions::migrations_table>(version, name, applied_at). Safe to run concurrently from several processes.
  virtual absl::Status Migrate(const std::vector<Migration>& migrations) = 0;
};

// Opens (creating if needed) the SQLite file with WAL, synchronous=NORMAL, busy_timeout and foreign keys.
absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(const SqliteConfig& config, const DatabaseOptions& options = {});
// Connects to PostgreSQL (one connection up front to fail fast: kUnavailable if unreachable).
absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(const PostgresConfig& config, int max_open_connections,
                                                       const DatabaseOptions& options = {});
// Opens whichever backend `config` selects (postgres when present, SQLite otherwise).
absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseConfig& config, const DatabaseOptions& options = {});

// libpq connection string for `config` (values quoted as libpq requires), plus extra_options verbatim.
std::string PostgresConnectionString(const PostgresConfig& config);

}  // namespace flyte::db
