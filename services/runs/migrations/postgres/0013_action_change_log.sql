-- Cross-replica change feed (repository/postgres/pg_change_feed.h). Every transaction that changes actions appends
-- one row, in that transaction: the changes it made (EncodeActionChange payloads) under its transaction id, and the
-- instance that wrote it. Replicas read the rows whose xid is at or above the xmin of the snapshot of their previous
-- read, so a transaction that commits late (after a younger one) is still read. Rows are deleted once every replica
-- has had time to read them.
CREATE TABLE action_change_log (
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  origin TEXT COLLATE "C" NOT NULL,
  payloads TEXT[] NOT NULL
);
CREATE INDEX action_change_log_xid ON action_change_log (xid);
