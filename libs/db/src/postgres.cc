// PostgreSQL backend on libpqxx 6.4: a bounded connection pool, lazily prepared statements per connection,
// broken connections dropped (with the rest of the idle pool, which a server restart killed too) and replaced.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <pqxx/pqxx>

#include "flyte/db/database.h"
#include "pg_statistics.h"

namespace flyte::db {
namespace {

constexpr int64_t kMigrationLockKey = 0x666c797465;  // "flyte"
constexpr unsigned kByteaOid = 17;
constexpr unsigned kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kBoolOid = 16;

// Rewrites `?` placeholders to $1..$n, leaving quoted text alone.
std::string ToDollarParams(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::Status LogAndMap(std::string_view what, const std::exception& e, absl::StatusCode code,
                       const char* public_message) {
  std::cerr << "postgres error in " << what.substr(0, 200) << ": " << e.what() << "\n";
  return absl::Status(code, public_message);
}

// A read-committed libpqxx transaction that opens with `begin`, one simple query: one round trip where libpqxx's
// own BEGIN followed by SET statements takes two.
template <const char* kBegin, pqxx::readwrite_policy kPolicy>
class OneQueryBegin final : public pqxx::internal::basic_transaction {
 public:
  explicit OneQueryBegin(pqxx::connection_base& c)
      : pqxx::internal::namedclass{"OneQueryBegin"},
        basic_transaction(c, pqxx::isolation_traits<pqxx::read_committed>::name(), kPolicy) {
    Begin();
  }
  ~OneQueryBegin() noexcept override { End(); }

 private:
  void do_begin() override { direct_exec(kBegin); }
};

// pqxx::work whose statements use generic plans (Database::WriteGenericPlans).
constexpr char kBeginGenericPlans[] = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";
using GenericPlanWork = OneQueryBegin<kBeginGenericPlans, pqxx::read_write>;
// pqxx::read_transaction (BEGIN, then SET TRANSACTION READ ONLY) in one round trip.
constexpr char kBeginReadOnly[] = "BEGIN READ ONLY";
using ReadOnlyWork = OneQueryBegin<kBeginReadOnly, pqxx::read_only>;

class PgConn final : public Tx {
 public:
  explicit PgConn(const std::string& conninfo) : conn_(conninfo), backend_pid_(conn_.backendpid()) {
    // A dropped connection stays dropped: the pool replaces it (with a clean statement cache) rather than
    // libpqxx silently reconnecting in the middle of a unit of work.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn_.inhibit_reactivation(true);
#pragma GCC diagnostic pop
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  pqxx::connection& conn() { return conn_; }
  bool broken() const { return broken_ || !conn_.is_open(); }
  int backend_pid() const { return backend_pid_; }
  void set_tx(pqxx::transaction_base* tx) { tx_ = tx; }

  // "INSERT INTO name ..." -> "name" (lower-case letters, digits, underscores only); anything else -> "".
  static std::string_view InsertTarget(std::string_view sql) {
    constexpr std::string_view kInsert = "INSERT INTO ";
    if (sql.substr(0, kInsert.size()) != kInsert) return {};
    sql.remove_prefix(kInsert.size());
    size_t n = 0;
    while (n < sql.size() && ((sql[n] >= 'a' && sql[n] <= 'z') || (sql[n] >= '0' && sql[n] <= '9') || sql[n] == '_')) ++n;
    if (n == 0 || (n < sql.size() && sql[n] != ' ' && sql[n] != '(')) return {};
    return sql.substr(0, n);
  }

  absl::StatusOr<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    absl::StatusOr<pqxx::result> r = Run(sql, params);
    if (!r.ok()) return r.status();
    Rows rows;
    rows.reserve(r->size());
    for (const pqxx::row& row : *r) {
      std::vector<Row::Cell> cells;
      cells.reserve(row.size());
      for (const pqxx::field& f : row) {
        if (f.is_null()) {
          cells.emplace_back(nullptr);
          continue;
        }
        const unsigned oid = f.type();
        if (oid == kInt8Oid || oid == kInt4Oid || oid == kInt2Oid) {
          cells.emplace_back(f.as<int64_t>());
        } else if (oid == kBoolOid) {
          cells.emplace_back(static_cast<int64_t>(f.as<bool>()));
        } else if (oid == kByteaOid) {
          pqxx::binarystring b(f);
          cells.emplace_back(b.str());
        } else {
          cells.emplace_back(std::string(f.c_str(), f.size()));
        }
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    absl::StatusOr<pqxx::result> r = Run(sql, params);
    if (!r.ok()) return r.status();
    const auto rows = static_cast<int64_t>(r->affected_rows());
    if (statistics_ != nullptr) {
      if (std::string_view table = InsertTarget(sql); !table.empty()) statistics_->Inserted(table, rows);
    }
    return rows;
  }

  void CountInserted(std::string_view table, int64_t rows) override {
    if (statistics_ != nullptr && rows > 0) statistics_->Inserted(table, rows);
  }

  // Told about every INSERT, to keep planner statistics of growing tables fresh (nullptr: not told).
  void set_statistics(internal::PlannerStatistics* statistics) { statistics_ = statistics; }

  // Multi-statement SQL without parameters (migrations).
  absl::Status Raw(const std::string& sql) {
    try {
      tx_->exec(sql);
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return Map(e, sql);
    }
  }

  absl::Status Map(const std::exception& e, std::string_view what) {
    if (dynamic_cast<const pqxx::unique_violation*>(&e)) return absl::AlreadyExistsError("already exists");
    if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
      broken_ = true;
      return LogAndMap(what, e, absl::StatusCode::kUnavailable, "database unavailable");
    }
    if (const auto* se = dynamic_cast<const pqxx::sql_error*>(&e)) {
      const std::string state = se->sqlstate();
      if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {  // connection exception, shutdown
        broken_ = true;
        return LogAndMap(what, e, absl::StatusCode::kUnavailable, "database unavailable");
      }
      if (state == "40001" || state == "40P01") {
        return LogAndMap(what, e, absl::StatusCode::kAborted, "transaction conflict, retry");
      }
    }
    return LogAndMap(what, e, absl::StatusCode::kInternal, "database error");
  }

 private:
  absl::StatusOr<pqxx::result> Run(std::string_view sql, const std::vector<Value>& params) {
    try {
      auto it = names_.find(std::string(sql));
      if (it == names_.end()) {
        std::string name = "s" + std::to_string(names_.size());
        conn_.prepare(name, ToDollarParams(sql));
        it = names_.emplace(std::string(sql), std::move(name)).first;
      }
      // The invocation API binds a run-time list of mixed-type parameters (nulls, ints, text, binary).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      pqxx::prepare::invocation inv = tx_->prepared(it->second);
#pragma GCC diagnostic pop
      std::vector<pqxx::binarystring> blobs;  // keep alive until exec
      blobs.reserve(params.size());
      for (const Value& v : params) {
        if (std::holds_alternative<std::nullptr_t>(v)) {
          inv();
        } else if (const auto* i = std::get_if<int64_t>(&v)) {
          inv(*i);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
          inv(*s);
        } else {
          const std::string& d = std::get<Bytes>(v).data;
          blobs.emplace_back(d.data(), d.size());
          inv(blobs.back());
        }
      }
      return inv.exec();
    } catch (const std::exception& e) {
      return Map(e, sql);
    }
  }

  pqxx::connection conn_;
  const int backend_pid_;
  pqxx::transaction_base* tx_ = nullptr;
  std::unordered_map<std::string, std::string> names_;
  bool broken_ = false;
  internal::PlannerStatistics* statistics_ = nullptr;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string conninfo, int max_open, const DatabaseOptions& options)
      : conninfo_(std::move(conninfo)), max_open_(std::max(1, max_open)), hook_(options.query_hook),
        migrations_table_(options.migrations_table) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  void KeepPlannerStatistics() {
    statistics_ = std::make_unique<internal::PlannerStatistics>(*this, std::chrono::seconds(1));
    statistics_ptr_ = statistics_.get();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::unique_ptr<PgConn>& c : idle_) c->set_statistics(statistics_.get());
  }

  // Connects once so a bad config fails at start.
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<PgConn>> c = Acquire();
    if (!c.ok()) return c.status();
    Release(std::move(*c));
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    return Run<pqxx::work>(op, fn);
  }
  absl::Status WriteGenericPlans(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    return Run<GenericPlanWork>(op, fn);
  }
  absl::Status WriteStatement(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    return Run<pqxx::nontransaction>(op, fn, /*may_retry=*/false);
  }
  absl::Status Read(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    return Run<ReadOnlyWork>(op, fn);
  }
  absl::Status ReadStatement(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    return Run<pqxx::nontransaction>(op, fn);
  }
  bool IsOwnSession(int backend_pid) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return own_pids_.count(backend_pid) > 0;
  }

  absl::Status Ping() override {
    return Read("ping", [](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }

  absl::Status Migrate(const std::vector<Migration>& migrations) override {
    std::vector<const Migration*> sorted;
    for (const Migration& m : migrations) sorted.push_back(&m);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->version < b->version; });
    for (const Migration* m : sorted) {
      absl::Status s = Write("migrate", [&](Tx& tx) -> absl::Status {
        auto& conn = static_cast<PgConn&>(tx);
        // Serialises replicas starting together; released at commit/rollback.
        absl::Status st = tx.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status();
        if (!st.ok()) return st;
        st = conn.Raw(
            "CREATE TABLE IF NOT EXISTS " + migrations_table_ + " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)");
        if (!st.ok()) return st;
        absl::StatusOr<Rows> done =
            tx.Query("SELECT 1 FROM " + migrations_table_ + " WHERE version = ?", {int64_t{m->version}});
        if (!done.ok()) return done.status();
        if (!done->empty()) return absl::OkStatus();
        st = conn.Raw(m->sql);
        if (!st.ok()) return st;
        const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return tx.Exec("INSERT INTO " + migrations_table_ + "(version, name, applied_at) VALUES (?, ?, ?)",
                       {int64_t{m->version}, m->name, now})
            .status();
      });
      if (!s.ok()) {
        std::cerr << "migration " << m->name << " failed: " << s << "\n";
        return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  template <class TxType>
  absl::Status Run(std::string_view op, const std::function<absl::Status(Tx&)>& fn, bool may_retry = true) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status s;
    for (int attempt = 0; attempt < 2; ++attempt) {
      absl::StatusOr<std::unique_ptr<PgConn>> c = Acquire();
      if (!c.ok()) {
        s = c.status();
        break;
      }
      PgConn& conn = **c;
      bool committing = false;
      try {
        TxType tx(conn.conn());
        conn.set_tx(&tx);
        s = fn(conn);
        if (s.ok()) {
          committing = true;
          tx.commit();
        }
        conn.set_tx(nullptr);
      } catch (const std::exception& e) {
        conn.set_tx(nullptr);
        s = conn.Map(e, op);
      }
      const bool broken = conn.broken();
      Release(std::move(*c));
      // A connection found dead before commit: nothing was applied, so one retry on a fresh one is safe.
      if (may_retry && broken && !committing && s.code() == absl::StatusCode::kUnavailable && attempt == 0) continue;
      break;
    }
    if (hook_) hook_(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return s;
  }

  absl::StatusOr<std::unique_ptr<PgConn>> Acquire() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_open_; });
      if (!idle_.empty()) {
        std::unique_ptr<PgConn> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      ++open_;
    }
    try {
      auto conn = std::make_unique<PgConn>(conninfo_);
      conn->set_statistics(statistics_ptr_.load());
      {
        std::lock_guard<std::mutex> lock(mu_);
        own_pids_.insert(conn->backend_pid());
      }
      return conn;
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        --open_;
      }
      cv_.notify_one();
      std::cerr << "postgres connect failed: " << e.what() << "\n";
      return absl::UnavailableError("cannot connect to database");
    }
  }

  void Release(std::unique_ptr<PgConn> c) {
    std::vector<std::unique_ptr<PgConn>> dead;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (c->broken()) {
        // The server likely restarted: every idle connection is dead too.
        dead.push_back(std::move(c));
        for (auto& i : idle_) dead.push_back(std::move(i));
        idle_.clear();
        open_ -= static_cast<int>(dead.size());
        for (const auto& d : dead) own_pids_.erase(d->backend_pid());
      } else {
        idle_.push_back(std::move(c));
      }
    }
    cv_.notify_all();
    dead.clear();  // close outside the lock
  }

  std::string conninfo_;
  int max_open_;
  QueryHook hook_;
  std::string migrations_table_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  std::unordered_set<int> own_pids_;  // backend PIDs of the connections this pool opened and still holds
  int open_ = 0;
  std::atomic<internal::PlannerStatistics*> statistics_ptr_{nullptr};  // for connections opened from now on
  std::unique_ptr<internal::PlannerStatistics> statistics_;  // last: stopped before the pool goes away
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(const PostgresConfig& config, int max_open_connections,
                                                       const DatabaseOptions& options) {
  std::string conninfo = PostgresConnectionString(config);
  if (conninfo.find("connect_timeout") == std::string::npos) conninfo += " connect_timeout=5";
  if (!options.application_name.empty()) {
    std::string quoted;  // a libpq conninfo value: single quotes, with ' and \ escaped
    for (char c : options.application_name) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    conninfo += " application_name='" + quoted + "'";
  }
  auto db = std::make_unique<PostgresDatabase>(std::move(conninfo), max_open_connections, options);
  absl::Status s = db->Init();
  if (!s.ok()) return s;
  if (options.keep_planner_statistics) db->KeepPlannerStatistics();
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace flyte::db
