-- Recovery runs (`flyte rerun --recover`: RunSpec.relation RECOVER): the run each one recovers, written with the run.
-- A child enqueued in such a run whose name matches an action that succeeded in the source run is recorded
-- RECOVERED with that action's outputs instead of being queued (docs/runs-service.md, Recovery).
CREATE TABLE run_recoveries (
  org TEXT COLLATE "C" NOT NULL,
  project TEXT COLLATE "C" NOT NULL,
  domain TEXT COLLATE "C" NOT NULL,
  run_name TEXT COLLATE "C" NOT NULL,
  source_run_name TEXT COLLATE "C" NOT NULL,
  force_rerun_actions TEXT NOT NULL DEFAULT '[]',  -- JSON list of action names (RunSpec.recover)
  PRIMARY KEY (org, project, domain, run_name)
);
