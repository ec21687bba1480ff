-- TriggerService (flyteidl2.trigger): schedules deployed with a task (DeployTaskRequest.triggers). spec: serialized
-- flyteidl2.trigger.TriggerSpec; automation_spec: serialized flyteidl2.task.TriggerAutomationSpec. next_fire_at: the
-- next tick the scheduler fires (NULL = nothing scheduled: inactive or no schedule). Times in Unix microseconds.
CREATE TABLE triggers (
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  task_name TEXT NOT NULL,
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  task_version TEXT NOT NULL,
  spec BLOB NOT NULL,
  automation_spec BLOB NOT NULL,
  active INTEGER NOT NULL,
  deployed_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  triggered_at INTEGER,
  next_fire_at INTEGER,
  PRIMARY KEY (org, project, domain, task_name, name)
);
CREATE INDEX triggers_next_fire ON triggers (next_fire_at);
-- One row per named lease (the trigger scheduler's "trigger-scheduler"): whoever holds an unexpired row is the one
-- replica doing that work; taken over with a conditional update once it expires.
CREATE TABLE service_leases (
  name TEXT NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
