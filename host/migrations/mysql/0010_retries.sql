-- wasmcron schema, version 10 (MySQL/MariaDB): retries of failed runs.

-- A tick may be attempted several times: the durable identity of a run becomes
-- (job, scheduled instant, attempt). Attempt 1 is the tick's first row, as before. One
-- statement, so that the foreign key on job_id always has an index to use.
ALTER TABLE runs ADD UNIQUE KEY runs_by_job_tick_attempt (job_id, scheduled_at_ms, attempt),
    DROP INDEX runs_by_job_tick;

-- A job's failure handling as JSON: `retry` ({attempts, backoff_ms, max_backoff_ms}; absent:
-- the cluster default), `pause_after_failures`, `stale_after_ms`. VARCHAR: it has a default.
ALTER TABLE jobs ADD COLUMN failure VARCHAR(1024) NOT NULL DEFAULT '{}',
    ADD COLUMN paused_reason VARCHAR(64) NULL;

-- The next attempt of a tick whose attempt failed: written in the transaction that records
-- the failure (fenced like it), due at `due_at_ms` (database clock), and consumed in the
-- transaction that records the attempt's start. Whoever owns the job runs it.
CREATE TABLE run_retries (
    job_id          VARCHAR(255) NOT NULL,
    scheduled_at_ms BIGINT NOT NULL,
    attempt         INTEGER NOT NULL,
    due_at_ms       BIGINT NOT NULL,
    catch_up        BOOLEAN NOT NULL,
    manual          BOOLEAN NOT NULL,
    PRIMARY KEY (job_id, scheduled_at_ms, attempt),
    CONSTRAINT run_retries_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
