-- Runs service schema (PostgreSQL). A run is its root action (name 'a0', parent_name NULL).
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
  task_spec BYTEA NOT NULL DEFAULT ''::bytea,
  trace_spec BYTEA NOT NULL DEFAULT ''::bytea,
  condition_spec BYTEA NOT NULL DEFAULT ''::bytea,
  run_spec BYTEA NOT NULL DEFAULT ''::bytea,
  metadata BYTEA NOT NULL DEFAULT ''::bytea,
  input_uri TEXT NOT NULL DEFAULT '',
  run_output_base TEXT NOT NULL DEFAULT '',
  output_uri TEXT NOT NULL DEFAULT '',
  error_message TEXT,
  error_kind INTEGER,
  error_code TEXT,
  abort_reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  ended_at BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
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
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  error_message TEXT,
  error_kind INTEGER,
  error_code TEXT,
  output_uri TEXT NOT NULL DEFAULT '',
  log_info BYTEA NOT NULL DEFAULT ''::bytea,
  cluster TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (org, project, domain, run_name, action_name, attempt),
  FOREIGN KEY (org, project, domain, run_name, action_name)
    REFERENCES actions (org, project, domain, run_name, name) ON DELETE CASCADE
);

CREATE TABLE phase_transitions (
  id BIGSERIAL PRIMARY KEY,
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  FOREIGN KEY (org, project, domain, run_name, action_name, attempt)
    REFERENCES action_attempts (org, project, domain, run_name, action_name, attempt) ON DELETE CASCADE
);
CREATE INDEX phase_transitions_by_attempt ON phase_transitions (org, project, domain, run_name, action_name, attempt);

CREATE TABLE cluster_events (
  id BIGSERIAL PRIMARY KEY,
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  occurred_at BIGINT NOT NULL,
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
  spec BYTEA NOT NULL DEFAULT ''::bytea,
  short_name TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  task_type TEXT NOT NULL DEFAULT '',
  deployed_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org, project, domain, name, version)
);
CREATE INDEX tasks_by_created ON tasks (org, project, domain, created_at);
