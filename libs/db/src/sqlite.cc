// SQLite backend: WAL + synchronous=NORMAL, one writer connection behind a mutex (BEGIN IMMEDIATE so writers
// never deadlock on lock upgrades), a few reader connections, per-connection prepared-statement caches, and WAL
// checkpoints on a connection and thread of their own.
#include <thread>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "flyte/db/database.h"

namespace flyte::db {
namespace {

absl::Status MapSqliteError(const SQLite::Exception& e, std::string_view what) {
  const int code = e.getErrorCode();
  const int ext = e.getExtendedErrorCode();
  if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) {
    return absl::AlreadyExistsError("already exists");
  }
  std::cerr << "sqlite error in " << what << ": " << e.what() << " (code " << ext << ")\n";
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CANTOPEN || code == SQLITE_IOERR ||
      code == SQLITE_FULL) {
    return absl::UnavailableError("database unavailable");
  }
  return absl::InternalError("database error");
}

class SqliteConn final : public Tx {
 public:
  SqliteConn(const std::string& file, std::chrono::milliseconds busy_timeout, bool writer)
      : db_(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {
    db_.setBusyTimeout(static_cast<int>(busy_timeout.count()));
    if (writer) {
      // Switching a fresh file to WAL can answer SQLITE_BUSY at once while another process opens it (the busy
      // handler does not cover that lock), so retry within the busy timeout.
      for (auto deadline = std::chrono::steady_clock::now() + busy_timeout;;) {
        try {
          db_.exec("PRAGMA journal_mode=WAL");
          break;
        } catch (const SQLite::Exception& e) {
          if ((e.getErrorCode() & 0xff) != 5 /*SQLITE_BUSY*/ || std::chrono::steady_clock::now() > deadline) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    }
    db_.exec("PRAGMA synchronous=NORMAL");
    db_.exec("PRAGMA foreign_keys=ON");
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::StatusOr<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    try {
      SQLite::Statement& st = Prepare(sql, params);
      Rows rows;
      while (st.executeStep()) {
        const int n = st.getColumnCount();
        std::vector<Row::Cell> cells;
        cells.reserve(n);
        for (int i = 0; i < n; ++i) {
          SQLite::Column c = st.getColumn(i);
          switch (c.getType()) {
            case SQLITE_NULL: cells.emplace_back(nullptr); break;
            case SQLITE_INTEGER: cells.emplace_back(static_cast<int64_t>(c.getInt64())); break;
            case SQLITE_FLOAT: cells.emplace_back(std::to_string(c.getDouble())); break;
            default: cells.emplace_back(std::string(static_cast<const char*>(c.getBlob()), c.getBytes()));
          }
        }
        rows.emplace_back(std::move(cells));
      }
      st.reset();
      return rows;
    } catch (const SQLite::Exception& e) {
      ResetAll();
      return MapSqliteError(e, sql);
    }
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    try {
      SQLite::Statement& st = Prepare(sql, params);
      while (st.executeStep()) {
      }
      st.reset();
      return static_cast<int64_t>(sqlite3_changes(db_.getHandle()));
    } catch (const SQLite::Exception& e) {
      ResetAll();
      return MapSqliteError(e, sql);
    }
  }

  // Raw multi-statement execution (migrations). Throws SQLite::Exception.
  void Raw(const std::string& sql) { db_.exec(sql); }

  sqlite3* handle() { return db_.getHandle(); }

  // BEGIN [IMMEDIATE] / COMMIT / ROLLBACK from the statement cache: sqlite3_exec would parse them again for every
  // transaction. Throws SQLite::Exception.
  void Control(std::string_view sql) {
    SQLite::Statement& st = Prepare(sql, {});
    try {
      st.exec();
    } catch (const SQLite::Exception&) {
      ResetAll();
      throw;
    }
    st.reset();
  }

 private:
  SQLite::Statement& Prepare(std::string_view sql, const std::vector<Value>& params) {
    auto it = cache_.find(sql);  // heterogeneous: no string built per call
    if (it == cache_.end()) {
      it = cache_.emplace(std::string(sql), std::make_unique<SQLite::Statement>(db_, std::string(sql))).first;
    }
    SQLite::Statement& st = *it->second;
    st.reset();
    st.clearBindings();
    int idx = 1;
    for (const Value& v : params) {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              st.bind(idx);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              st.bind(idx, static_cast<int64_t>(x));
            } else if constexpr (std::is_same_v<T, std::string>) {
              st.bindNoCopy(idx, x);
            } else {
              st.bindNoCopy(idx, x.data.data(), static_cast<int>(x.data.size()));
            }
          },
          v);
      ++idx;
    }
    return st;
  }

  void ResetAll() {
    for (auto& [_, st] : cache_) {
      try {
        st->reset();
      } catch (...) {
      }
    }
  }

  SQLite::Database db_;
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, SqlHash, std::equal_to<>> cache_;
};

// Checkpoints the WAL from its own connection and thread. SQLite's auto-checkpoint runs in the transaction that
// crosses the threshold, behind our writer mutex: every writer then waits for the page copies and the fsyncs of
// the checkpoint (a measured 15-35% of CreateRun throughput on a 2-core VM). A PASSIVE checkpoint on another
// connection runs alongside the writer instead.
class BackgroundCheckpointer {
 public:
  BackgroundCheckpointer(const std::string& file, std::chrono::milliseconds busy_timeout)
      : conn_(file, busy_timeout, /*writer=*/false), thread_([this] { Run(); }) {}
  ~BackgroundCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Cheap; called by the writer after a commit.
  void Request() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = true;
    }
    cv_.notify_all();
  }

  // Returns once a checkpoint that started after this call has finished.
  void RequestAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    requested_ = true;
    const uint64_t want = started_ + 1;  // runs are sequential: the next one to start begins after this request
    cv_.notify_all();
    cv_.wait(lock, [&] { return stopping_ || finished_ >= want; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
      ++started_;
      lock.unlock();
      // PASSIVE: copies what no reader still needs and never blocks the writer; SQLITE_BUSY (another connection
      // is checkpointing) only means there is nothing to do now.
      sqlite3_wal_checkpoint_v2(conn_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
      ++finished_;
      cv_.notify_all();
    }
  }

  SqliteConn conn_;
  std::mutex mu_;
  std::condition_variable cv_;  // requests and completions
  bool requested_ = false;
  bool stopping_ = false;
  uint64_t started_ = 0, finished_ = 0;
  std::thread thread_;  // last: starts once the members above exist
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const SqliteConfig& config, const DatabaseOptions& options) : hook_(options.query_hook), migrations_table_(options.migrations_table) {
    writer_ = std::make_unique<SqliteConn>(config.file, config.busy_timeout, /*writer=*/true);
    for (int i = 0; i < std::max(1, options.sqlite_readers); ++i) {
      readers_.push_back(std::make_unique<SqliteConn>(config.file, config.busy_timeout, /*writer=*/false));
      free_.push_back(readers_.back().get());
    }
    checkpointer_ = std::make_unique<BackgroundCheckpointer>(config.file, config.busy_timeout);
    // Replaces the writer's auto-checkpoint (which is itself a WAL hook).
    sqlite3_wal_hook(writer_->handle(), &SqliteDatabase::OnWalCommit, this);
  }

  ~SqliteDatabase() override {
    sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
    checkpointer_.reset();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::Status Write(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    const auto start = std::chrono::steady_clock::now();
    absl::Status s;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      s = InTransaction(*writer_, "BEGIN IMMEDIATE", fn);
    }
    Observe(op, start);
    return s;
  }

  absl::Status Read(std::string_view op, const std::function<absl::Status(Tx&)>& fn) override {
    const auto start = std::chrono::steady_clock::now();
    SqliteConn* conn;
    {
      std::unique_lock<std::mutex> lock(read_mu_);
      read_cv_.wait(lock, [&] { return !free_.empty(); });
      conn = free_.back();
      free_.pop_back();
    }
    absl::Status s = InTransaction(*conn, "BEGIN", fn);
    {
      std::lock_guard<std::mutex> lock(read_mu_);
      free_.push_back(conn);
    }
    read_cv_.notify_one();
    Observe(op, start);
    return s;
  }

  absl::Status Ping() override {
    return Read("ping", [](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }

  absl::Status Migrate(const std::vector<Migration>& migrations) override {
    std::vector<const Migration*> sorted;
    for (const Migration& m : migrations) sorted.push_back(&m);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->version < b->version; });
    std::lock_guard<std::mutex> lock(write_mu_);
    for (const Migration* m : sorted) {
      absl::Status s = InTransaction(*writer_, "BEGIN IMMEDIATE", [&](Tx& tx) -> absl::Status {
        auto& conn = static_cast<SqliteConn&>(tx);
        conn.Raw(
            "CREATE TABLE IF NOT EXISTS " + migrations_table_ + " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL)");
        absl::StatusOr<Rows> done =
            tx.Query("SELECT 1 FROM " + migrations_table_ + " WHERE version = ?", {int64_t{m->version}});
        if (!done.ok()) return done.status();
        if (!done->empty()) return absl::OkStatus();
        conn.Raw(m->sql);
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
  static absl::Status InTransaction(SqliteConn& conn, const char* begin,
                                    const std::function<absl::Status(Tx&)>& fn) {
    try {
      conn.Control(begin);
    } catch (const SQLite::Exception& e) {
      return MapSqliteError(e, begin);
    }
    absl::Status s;
    try {
      s = fn(conn);
      if (s.ok()) {
        conn.Control("COMMIT");
        return s;
      }
    } catch (const SQLite::Exception& e) {
      s = MapSqliteError(e, "transaction");
    }
    try {
      conn.Control("ROLLBACK");
    } catch (const SQLite::Exception&) {
      // Already rolled back by SQLite (e.g. after SQLITE_FULL); nothing to undo.
    }
    return s;
  }

  // SQLite's WAL hook, on the writer's thread after each commit (under write_mu_); `frames` = frames in the WAL.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames) {
    auto* d = static_cast<SqliteDatabase*>(self);
    if (frames < d->next_checkpoint_at_ - kCheckpointFrames) d->next_checkpoint_at_ = kCheckpointFrames;  // restarted
    if (frames >= kInlineCheckpointFrames) {
      // The WAL only starts over once a checkpoint has caught up with the last commit, which a checkpointer running
      // beside a busy writer never does, and a disk slower than the writer leaves it ever further behind. Past
      // this size the writer (holding the write lock, so nothing is added meanwhile) waits for a checkpoint of
      // everything, as it would with SQLite's auto-checkpoint: the WAL stays bounded and writers slow down to
      // what the disk takes.
      d->checkpointer_->RequestAndWait();
      d->next_checkpoint_at_ = kCheckpointFrames;
    } else if (frames >= d->next_checkpoint_at_) {
      d->checkpointer_->Request();
      d->next_checkpoint_at_ = frames + kCheckpointFrames;
    }
    return SQLITE_OK;
  }

  void Observe(std::string_view op, std::chrono::steady_clock::time_point start) {
    if (hook_) hook_(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  // Background checkpoint every kCheckpointFrames new WAL frames (SQLite's auto-checkpoint default); the writer
  // checkpoints itself past kInlineCheckpointFrames (about 40 MB of WAL with 4 KiB pages).
  static constexpr int kCheckpointFrames = 1000;
  static constexpr int kInlineCheckpointFrames = 10000;

  QueryHook hook_;
  std::string migrations_table_;
  std::mutex write_mu_;
  std::unique_ptr<SqliteConn> writer_;
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;
  int next_checkpoint_at_ = kCheckpointFrames;  // WAL frames; guarded by write_mu_ (the hook runs under it)
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<SqliteConn>> readers_;
  std::vector<SqliteConn*> free_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(const SqliteConfig& config, const DatabaseOptions& options) {
  try {
    return std::unique_ptr<Database>(std::make_unique<SqliteDatabase>(config, options));
  } catch (const SQLite::Exception& e) {
    std::cerr << "cannot open sqlite database " << config.file << ": " << e.what() << "\n";
    return absl::UnavailableError("cannot open sqlite database " + config.file);
  }
}

}  // namespace flyte::db
