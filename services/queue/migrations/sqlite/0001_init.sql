-- Queue-service schema (SQLite). One row per enqueued action; `id` gives FIFO order.
-- state: 0 READY, 1 LEASED, 2 DONE. Timestamps are unix microseconds. payload is the serialized
-- flyteidl2.workflow.EnqueueActionRequest exactly as received.
CREATE TABLE queue_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  parent_name TEXT,
  payload BLOB NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  lease_id TEXT,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  abort_requested INTEGER NOT NULL DEFAULT 0,
  abort_reason TEXT NOT NULL DEFAULT '',
  enqueued_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (org, project, domain, run_name, action_name)
);
CREATE INDEX queue_entries_by_state ON queue_entries (state, id);
CREATE INDEX queue_entries_by_expiry ON queue_entries (state, lease_expires_at);
CREATE UNIQUE INDEX queue_entries_by_lease ON queue_entries (lease_id);
CREATE INDEX queue_entries_by_parent ON queue_entries (org, project, domain, run_name, parent_name);
