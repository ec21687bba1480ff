-- Transactional outbox towards queue-service: every change that queue-service must hear about (an action to
-- enqueue, an abort) is recorded here in the same transaction as the change itself, and the QueueDispatcher
-- deletes the row once queue-service acknowledged it. Replicas claim rows with FOR UPDATE SKIP LOCKED plus
-- claimed_until, so concurrent dispatchers rarely send a row twice (and a duplicate is harmless: enqueue is
-- idempotent on the queue side).
CREATE TABLE queue_outbox (
  id BIGSERIAL PRIMARY KEY,
  kind INTEGER NOT NULL,            -- 1 enqueue action, 2 abort run, 3 abort action
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  run_name TEXT NOT NULL,
  action_name TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  request BYTEA NOT NULL DEFAULT ''::bytea, -- enqueue: serialized EnqueueActionRequest to forward ('' = build from the action)
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,  -- unix micros: not sent before
  claimed_until BIGINT NOT NULL DEFAULT 0, -- unix micros: a dispatcher is sending it until then
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE INDEX queue_outbox_due ON queue_outbox (next_attempt_at, id);
