-- Which process claimed an outbox row (see the PostgreSQL migration); on SQLite one runs-service owns the file and
-- releases every claim at start, so this is only recorded.
ALTER TABLE queue_outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
