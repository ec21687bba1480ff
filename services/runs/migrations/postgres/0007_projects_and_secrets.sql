-- ProjectService's projects (they lived in <storage root>/.flyte/projects.json, one file per replica; that file is
-- imported once at start). labels: a JSON object of strings; state: flyteidl2.project.ProjectState.
CREATE TABLE projects (
  id TEXT COLLATE "C" PRIMARY KEY,
  org TEXT COLLATE "C" NOT NULL DEFAULT '',
  name TEXT COLLATE "C" NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}',
  state INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
-- Secrets the service makes for itself when the config gives none (the key signing upload/download URLs), so
-- every replica and every restart uses the same one.
CREATE TABLE service_secrets (
  name TEXT COLLATE "C" PRIMARY KEY,
  value BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
