-- wasmcron schema, version 15 (SQLite): jobs managed by a jobs file.

-- The jobs file (or `job apply` source) a job comes from; NULL for a job made through the
-- API. A managed job's spec is changed only by its file: the API refuses edits and deletes.
ALTER TABLE jobs ADD COLUMN managed_by TEXT;
