-- TriggerService (flyteidl2.trigger): schedules deployed with a task (DeployTaskRequest.triggers). spec: serialized
-- flyteidl2.trigger.TriggerSpec; automation_spec: serialized flyteidl2.task.TriggerAutomationSpec. next_fire_at: the
-- next tick the scheduler fires (NULL = nothing scheduled: inactive or no schedule). Times in Unix microseconds.
CREATE TABLE triggers (
  org TEXT COLLATE "C" NOT NULL,
  project TEXT COLLATE "C" NOT NULL,
  domain TEXT COLLATE "C" NOT NULL,
  task_name TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  revision BIGINT NOT NULL,
  task_version TEXT COLLATE "C" NOT NULL,
  spec BYTEA NOT NULL,
  automation_spec BYTEA NOT NULL,
  active BIGINT NOT NULL,
  deployed_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  triggered_at BIGINT,
  next_fire_at BIGINT,
  PRIMARY KEY (org, project, domain, task_name, name)
);
CREATE INDEX triggers_next_fire ON triggers (next_fire_at);
-- One row per named lease (the trigger scheduler's "trigger-scheduler"): whoever holds an unexpired row is the one
-- replica doing that work; taken over with a conditional update once it expires.
CREATE TABLE service_leases (
  name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  holder TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL
);
