-- Text compares byte by byte ("C" collation), whatever the database's default: names, keys and filters behave as
-- on SQLite (BINARY), and every key lookup, join and index insert skips the locale's collation routines, which
-- cost PostgreSQL a large share of its CPU under a fan-out when the database was created with a UTF-8 locale.
ALTER TABLE queue_entries
  ALTER COLUMN org TYPE TEXT COLLATE "C",
  ALTER COLUMN project TYPE TEXT COLLATE "C",
  ALTER COLUMN domain TYPE TEXT COLLATE "C",
  ALTER COLUMN run_name TYPE TEXT COLLATE "C",
  ALTER COLUMN action_name TYPE TEXT COLLATE "C",
  ALTER COLUMN parent_name TYPE TEXT COLLATE "C",
  ALTER COLUMN lease_id TYPE TEXT COLLATE "C",
  ALTER COLUMN lease_owner TYPE TEXT COLLATE "C",
  ALTER COLUMN abort_reason TYPE TEXT COLLATE "C";
