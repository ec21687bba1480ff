-- The digest (hex SHA-256) of the CreateRun request that made a run, on its root action: CreateRun repeated with
-- the same name and the same request returns the run; another request with that name is ALREADY_EXISTS.
-- '' for children and for runs created before this column existed (those stay ALREADY_EXISTS).
ALTER TABLE actions ADD COLUMN request_digest TEXT NOT NULL DEFAULT '';
