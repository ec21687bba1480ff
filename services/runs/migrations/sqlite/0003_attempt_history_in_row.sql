-- An attempt's phase history and cluster events move into its action_attempts row, as JSON text
-- (repository/attempt_history.h): a state report then rewrites one row instead of adding rows to two more tables.
-- Existing history is carried over in its original order.
ALTER TABLE action_attempts ADD COLUMN phase_history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE action_attempts ADD COLUMN cluster_events TEXT NOT NULL DEFAULT '[]';

UPDATE action_attempts SET phase_history = (
  SELECT json_group_array(json(entry)) FROM (
    SELECT json_array(t.phase, t.start_time, t.end_time) AS entry FROM phase_transitions AS t
    WHERE t.org = action_attempts.org AND t.project = action_attempts.project AND t.domain = action_attempts.domain
      AND t.run_name = action_attempts.run_name AND t.action_name = action_attempts.action_name
      AND t.attempt = action_attempts.attempt
    ORDER BY t.id));

UPDATE action_attempts SET cluster_events = (
  SELECT json_group_array(json(entry)) FROM (
    SELECT json_array(e.occurred_at, e.event_type, e.reason, e.message) AS entry FROM cluster_events AS e
    WHERE e.org = action_attempts.org AND e.project = action_attempts.project AND e.domain = action_attempts.domain
      AND e.run_name = action_attempts.run_name AND e.action_name = action_attempts.action_name
      AND e.attempt = action_attempts.attempt
    ORDER BY e.id));

DROP TABLE phase_transitions;
DROP TABLE cluster_events;
