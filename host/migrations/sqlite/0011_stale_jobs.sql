-- wasmcron schema, version 11 (SQLite): stale jobs.

-- The jobs found stale (no success for their `stale_after`), since when; written once (so
-- the stale event is published once) and deleted when the job succeeds again.
CREATE TABLE job_stale (
    job_id   TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    since_ms INTEGER NOT NULL
) STRICT;
