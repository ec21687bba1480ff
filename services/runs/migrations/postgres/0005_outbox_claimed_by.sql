-- Which runs-service process claimed an outbox row (its instance id; its connections are named
-- "flyte-runs <id>" in pg_stat_activity): a claim whose process has no connection left is taken over at once
-- instead of after the claim time.
ALTER TABLE queue_outbox ADD COLUMN claimed_by TEXT COLLATE "C" NOT NULL DEFAULT '';
