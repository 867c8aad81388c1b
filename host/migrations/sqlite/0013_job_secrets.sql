-- wasmcron schema, version 13 (SQLite): secrets read from files.

-- The secrets a job's plugin reads through config-get, as JSON {config key: secret name}.
-- Only the names: the values are read from the secrets directory at run time and never
-- stored.
ALTER TABLE jobs ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';
