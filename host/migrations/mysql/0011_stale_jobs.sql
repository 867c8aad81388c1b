-- wasmcron schema, version 11 (MySQL/MariaDB): stale jobs.

-- The jobs found stale (no success for their `stale_after`), since when; written once by the
-- replica that leads housekeeping (so the stale event is published once) and deleted when
-- the job succeeds again.
CREATE TABLE job_stale (
    job_id   VARCHAR(255) NOT NULL PRIMARY KEY,
    since_ms BIGINT NOT NULL,
    CONSTRAINT job_stale_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
