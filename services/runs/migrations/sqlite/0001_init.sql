-- Runs service schema (SQLite). A run is its root action (name 'a0', parent_name NULL).
-- Timestamps are unix microseconds; specs are serialized protobuf stored verbatim ('' = absent).
CREATE TABLE actions (
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  name TEXT NOT NULL,
  parent_name TEXT,
  action_type INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  group_name TEXT NOT NULL DEFAULT '',
  task_org TEXT NOT NULL DEFAULT '',
  task_project TEXT NOT NULL DEFAULT '',
  task_domain TEXT NOT NULL DEFAULT '',
  task_name TEXT NOT NULL DEFAULT '',
  task_version TEXT NOT NULL DEFAULT '',
  task_type TEXT NOT NULL DEFAULT '',
  short_name TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  task_spec BLOB NOT NULL DEFAULT x'',
  trace_spec BLOB NOT NULL DEFAULT x'',
  condition_spec BLOB NOT NULL DEFAULT x'',
  run_spec BLOB NOT NULL DEFAULT x'',
  metadata BLOB NOT NULL DEFAULT x'',
  input_uri TEXT NOT NULL DEFAULT '',
  run_output_base TEXT NOT NULL DEFAULT '',
  output_uri TEXT NOT NULL DEFAULT '',
  error_message TEXT,
  error_kind INTEGER,
  error_code TEXT,
  abort_reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (org, project, domain, run_name, name)
);
CREATE INDEX actions_runs_by_created ON actions (org, project, domain, created_at) WHERE parent_name IS NULL;
CREATE INDEX actions_by_parent ON actions (org, project, domain, run_name, parent_name);
CREATE INDEX actions_by_created ON actions (org, project, domain, run_name, created_at);

CREATE TABLE action_attempts (
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  error_message TEXT,
  error_kind INTEGER,
  error_code TEXT,
  output_uri TEXT NOT NULL DEFAULT '',
  log_info BLOB NOT NULL DEFAULT x'',
  cluster TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (org, project, domain, run_name, action_name, attempt),
  FOREIGN KEY (org, project, domain, run_name, action_name)
    REFERENCES actions (org, project, domain, run_name, name) ON DELETE CASCADE
);

CREATE TABLE phase_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  FOREIGN KEY (org, project, domain, run_name, action_name, attempt)
    REFERENCES action_attempts (org, project, domain, run_name, action_name, attempt) ON DELETE CASCADE
);
CREATE INDEX phase_transitions_by_attempt ON phase_transitions (org, project, domain, run_name, action_name, attempt);

CREATE TABLE cluster_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  event_type INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (org, project, domain, run_name, action_name, attempt)
    REFERENCES action_attempts (org, project, domain, run_name, action_name, attempt) ON DELETE CASCADE
);
CREATE INDEX cluster_events_by_attempt ON cluster_events (org, project, domain, run_name, action_name, attempt);

CREATE TABLE tasks (
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  spec BLOB NOT NULL DEFAULT x'',
  short_name TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  task_type TEXT NOT NULL DEFAULT '',
  deployed_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org, project, domain, name, version)
);
CREATE INDEX tasks_by_created ON tasks (org, project, domain, created_at);
