-- ListRuns filters the SDK sends: `labels.<key>` (Run.listall(with_labels=..., with_label_keys=...)) and
-- `created_by` (created_by_subject=...). A run's labels (from its RunSpec) are rows here, written with the run;
-- runs created before this migration keep their labels only in their run_spec and are not found by label filters.
CREATE TABLE run_labels (
  org TEXT COLLATE "C" NOT NULL,
  project TEXT COLLATE "C" NOT NULL,
  domain TEXT COLLATE "C" NOT NULL,
  run_name TEXT COLLATE "C" NOT NULL,
  label_key TEXT COLLATE "C" NOT NULL,
  label_value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (org, project, domain, run_name, label_key)
);
-- "runs of this scope with label k = v" without reading every run of the scope.
CREATE INDEX run_labels_by_value ON run_labels (org, project, domain, label_key, label_value, run_name);
-- The subject that created a run ('' when none: runs-service has no authentication), on its root action.
ALTER TABLE actions ADD COLUMN created_by TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX actions_runs_by_creator ON actions (org, project, domain, created_by, created_at) WHERE parent_name IS NULL;
