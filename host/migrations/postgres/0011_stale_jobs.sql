-- wasmcron schema, version 11 (PostgreSQL): stale jobs.

-- The jobs found stale (no success for their `stale_after`), since when; the row is written
-- once by the replica that leads housekeeping (so the stale event is published once) and
-- deleted when the job succeeds again.
CREATE TABLE job_stale (
    job_id   TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    since_ms BIGINT NOT NULL
);
