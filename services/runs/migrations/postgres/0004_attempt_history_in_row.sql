-- An attempt's phase history and cluster events move into its action_attempts row, as JSON text
-- (repository/attempt_history.h): a state report then rewrites one row, where it used to update the attempt, close
-- a phase_transitions row and insert phase_transitions and cluster_events rows (each with two indexes and a
-- foreign-key check). Existing history is carried over in its original order.
ALTER TABLE action_attempts
  ADD COLUMN phase_history TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  ADD COLUMN cluster_events TEXT COLLATE "C" NOT NULL DEFAULT '[]';

UPDATE action_attempts AS a SET phase_history = h.list
FROM (SELECT org, project, domain, run_name, action_name, attempt,
             json_agg(json_build_array(phase, start_time, end_time) ORDER BY id)::text AS list
      FROM phase_transitions GROUP BY org, project, domain, run_name, action_name, attempt) AS h
WHERE a.org = h.org AND a.project = h.project AND a.domain = h.domain AND a.run_name = h.run_name
  AND a.action_name = h.action_name AND a.attempt = h.attempt;

UPDATE action_attempts AS a SET cluster_events = e.list
FROM (SELECT org, project, domain, run_name, action_name, attempt,
             json_agg(json_build_array(occurred_at, event_type, reason, message) ORDER BY id)::text AS list
      FROM cluster_events GROUP BY org, project, domain, run_name, action_name, attempt) AS e
WHERE a.org = e.org AND a.project = e.project AND a.domain = e.domain AND a.run_name = e.run_name
  AND a.action_name = e.action_name AND a.attempt = e.attempt;

DROP TABLE phase_transitions;
DROP TABLE cluster_events;
