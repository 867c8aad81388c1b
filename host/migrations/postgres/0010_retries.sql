-- wasmcron schema, version 10 (PostgreSQL): retries of failed runs.

-- A tick may be attempted several times: the durable identity of a run becomes
-- (job, scheduled instant, attempt). Attempt 1 is the tick's first row, as before.
DROP INDEX runs_by_job_tick;
CREATE UNIQUE INDEX runs_by_job_tick ON runs (job_id, scheduled_at_ms DESC, attempt);

-- A job's failure handling as JSON: `retry` ({attempts, backoff_ms, max_backoff_ms}; absent:
-- the cluster default), `pause_after_failures`, `stale_after_ms`.
ALTER TABLE jobs ADD COLUMN failure TEXT NOT NULL DEFAULT '{}';
-- Why the job is paused when the host paused it (`failures`); NULL when paused by hand.
ALTER TABLE jobs ADD COLUMN paused_reason TEXT;

-- The next attempt of a tick whose attempt failed: written in the transaction that records
-- the failure (fenced like it), due at `due_at_ms` (database clock), and consumed in the
-- transaction that records the attempt's start. Whoever owns the job runs it: the replica
-- that wrote it, or after a crash or a handoff the job's next owner.
CREATE TABLE run_retries (
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    scheduled_at_ms BIGINT NOT NULL,
    attempt         INTEGER NOT NULL,
    due_at_ms       BIGINT NOT NULL,
    catch_up        BOOLEAN NOT NULL,
    manual          BOOLEAN NOT NULL,
    PRIMARY KEY (job_id, scheduled_at_ms, attempt)
);
