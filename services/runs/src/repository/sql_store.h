#pragma once
// The repositories written once against flyte::db (portable SQL with `?` parameters); SqliteStore and
// PostgresStore differ only in how changes reach other replicas (none on SQLite; the change log and NOTIFY after
// commit on PostgreSQL, pg_change_feed.h) and in row locking (SELECT ... FOR UPDATE on PostgreSQL).
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flyte/db/database.h"
#include "repository/action_repository.h"
#include "repository/recent_action_rows.h"
#include "repository/sql_cache_repository.h"
#include "repository/sql_user_secret_repository.h"
#include "repository/sql_trigger_repository.h"
#include "repository/sql_project_repository.h"

namespace flyte::runs {

inline constexpr char kActionChangeChannel[] = "flyte_runs_action_changes";

// Compact change encoding, one element of action_change_log.payloads (well under PostgreSQL's 8000-byte limit for sane key lengths).
std::string EncodeActionChange(const ActionChange& change);
// action_change_log.payloads of `changes` (a text[] parameter).
db::Value ChangeLogPayloads(const std::vector<ActionChange>& changes);
absl::StatusOr<ActionChange> DecodeActionChange(std::string_view payload);

// Live actions whose last-written rows a PostgreSQL store remembers for state reports (recent_action_rows.h): more
// than run at once on most deployments (a terminal action is dropped at once), and a few MB at most (an entry
// holds the action row, specs included). Past it, reports on the others take the locked path.
inline constexpr size_t kRememberedActionRows = 1024;

class SqlActionRepository final : public ActionRepository {
 public:
  explicit SqlActionRepository(db::Database& db) : db_(db) {}

  absl::Status CreateRun(const Action& root) override;
  absl::Status CreateAction(const Action& action) override;
  absl::StatusOr<Action> Get(const ActionKey& key) override;
  absl::StatusOr<std::vector<Action>> GetMany(const RunKey& run, const std::vector<std::string>& names) override;
  absl::StatusOr<ActionWithAttempts> GetWithAttempts(const ActionKey& key) override;
  absl::StatusOr<Page<Action>> List(const ListQuery& query) override;
  absl::StatusOr<Action> ApplyEvent(const ActionKey& key, const ActionEvent& event) override;
  std::vector<absl::StatusOr<Action>> ApplyEvents(const std::vector<KeyedEvent>& events) override;
  absl::StatusOr<std::vector<ActionKey>> Abort(const ActionKey& key, const std::string& reason,
                                              TimePoint now) override;
  void SetChangeListener(std::function<void(const ActionChange&)> fn) override;
  // Recovery runs (sql_run_recoveries.cc).
  absl::StatusOr<std::optional<RunRecovery>> GetRecovery(const RunKey& run) override;
  // Records `recovery` of `run` inside the caller's transaction (CreateRunWith).
  static absl::Status InsertRecovery(db::Tx& tx, const RunKey& run, const RunRecovery& recovery);
  // Queue outbox variants (sql_queue_outbox.cc).
  absl::Status CreateRunAndRecord(const Action& root, const QueueCommand& command) override;
  absl::StatusOr<Action> CreateRunWith(const Action& root, const RunCreation& with) override;
  absl::Status CreateActionAndRecord(const Action& action, const QueueCommand& command) override;
  absl::StatusOr<std::vector<ActionKey>> AbortAndRecord(const ActionKey& key, const std::string& reason,
                                                       TimePoint now, const QueueCommand& command) override;

  // Hands a change to the listener (this process's after commit; other replicas' from PgChangeFeed).
  void Deliver(const ActionChange& change);
  // PostgreSQL: every transaction that changes actions appends them to action_change_log under `origin` (this
  // process's instance id), and `committed` is called after it commits (PgChangeFeed::Announce). Call once,
  // before any write.
  void SetChangeLog(std::string origin, std::function<void()> committed);

 private:
  using MutateFn = std::function<absl::Status(db::Tx&, std::vector<ActionChange>&)>;
  // Runs `fn` in a write transaction; on PostgreSQL appends its changes to action_change_log in that transaction.
  // Listeners hear of them once it commits.
  absl::Status Mutate(std::string_view op, const MutateFn& fn);
  // As Mutate, but on PostgreSQL `fn` appends its changes to action_change_log itself (under change_origin_), in a
  // statement that also writes them, and its statements use generic plans (db::Database::WriteGenericPlans).
  absl::Status MutateLoggingItself(std::string_view op, const MutateFn& fn);
  void Committed(const std::vector<ActionChange>& changes);
  std::optional<std::vector<absl::StatusOr<Action>>> ApplyToRememberedRow(const std::vector<KeyedEvent>& events);
  absl::Status Insert(db::Tx& tx, const Action& a, std::vector<ActionChange>& changes);
  absl::Status CreateActionIn(db::Tx& tx, const Action& action, std::vector<ActionChange>& changes);
  absl::Status CreateActionAndRecordInOneStatement(const Action& action, const QueueCommand& command);
  absl::Status CreateRunInOneStatement(const Action& root, const RunCreation& with);
  absl::Status AbortIn(db::Tx& tx, const ActionKey& key, const std::string& reason, TimePoint now,
                       std::vector<ActionChange>& changes, std::vector<ActionKey>& changed);
  bool postgres() const { return db_.dialect() == db::Dialect::kPostgres; }

  db::Database& db_;
  std::string change_origin_;
  std::function<void()> changes_committed_;
  std::mutex listener_mu_;
  std::shared_ptr<std::function<void(const ActionChange&)>> listener_;
  // PostgreSQL: the rows of live actions this process wrote last (ApplyToRememberedRow).
  RecentActionRows recent_rows_{kRememberedActionRows};
};

class SqlTaskRepository final : public TaskRepository {
 public:
  explicit SqlTaskRepository(db::Database& db) : db_(db) {}
  absl::Status Deploy(const Task& task) override;
  absl::StatusOr<Task> Get(const TaskKey& key) override;
  absl::StatusOr<Page<Task>> ListLatest(const ListQuery& query) override;
  absl::StatusOr<Page<Task>> ListVersions(const TaskKey& name_only, const ListQuery& query) override;

 private:
  absl::StatusOr<Page<Task>> ListWhere(std::string_view op, std::string where, std::vector<db::Value> params,
                                       const ListQuery& query, bool versions);
  db::Database& db_;
};

// The queue outbox table (migration 0002), in the same database as the actions (sql_queue_outbox.cc).
class SqlQueueOutbox final : public QueueOutbox {
 public:
  explicit SqlQueueOutbox(db::Database& db) : db_(db) {}
  // PostgreSQL: this process's instance id; its pooled connections are named "flyte-runs <owner>" in
  // pg_stat_activity (kOwnerApplicationPrefix). Claims record it, and a claim whose owner has no connection left
  // (the process died) is taken over at once rather than after claim_for.
  void set_owner(std::string owner) { owner_ = std::move(owner); }
  absl::StatusOr<std::vector<QueueCommand>> Claim(size_t limit, TimePoint now,
                                                  std::chrono::microseconds claim_for) override;
  absl::Status Done(const std::vector<int64_t>& ids) override;
  absl::Status Retry(const std::vector<int64_t>& ids, TimePoint next_attempt_at, const std::string& error) override;
  absl::Status ReleaseClaims() override;
  absl::StatusOr<int64_t> Count() override;

  // Inserts `command` inside the caller's transaction (due at once).
  static absl::Status Record(db::Tx& tx, const QueueCommand& command, TimePoint now);

 private:
  db::Database& db_;
  std::string owner_;
};

inline constexpr char kOwnerApplicationPrefix[] = "flyte-runs ";

// Owns the database and the repositories.
class SqlStore : public Store {
 public:
  explicit SqlStore(std::unique_ptr<db::Database> db)
      : db_(std::move(db)), actions_(*db_), tasks_(*db_), projects_(*db_), secrets_(*db_), cache_(*db_), user_secrets_(*db_), triggers_(*db_) {}
  ActionRepository& Actions() override { return actions_; }
  TaskRepository& Tasks() override { return tasks_; }
  ProjectRepository& Projects() override { return projects_; }
  SecretRepository& Secrets() override { return secrets_; }
  CacheRepository& Cache() override { return cache_; }
  UserSecretRepository& UserSecrets() override { return user_secrets_; }
  TriggerRepository& Triggers() override { return triggers_; }
  absl::Status Ping() override { return db_->Ping(); }
  QueueOutbox* Outbox() override { return &outbox_; }
  db::Database& database() { return *db_; }

 protected:
  SqlActionRepository& sql_actions() { return actions_; }
  SqlQueueOutbox& sql_outbox() { return outbox_; }

 private:
  std::unique_ptr<db::Database> db_;
  SqlActionRepository actions_;
  SqlTaskRepository tasks_;
  SqlProjectRepository projects_;
  SqlSecretRepository secrets_;
  SqlCacheRepository cache_;
  SqlUserSecretRepository user_secrets_;
  SqlTriggerRepository triggers_;
  SqlQueueOutbox outbox_{*db_};
};

}  // namespace flyte::runs
