-- wasmcron schema, version 3 (MySQL/MariaDB): the cluster's event history and manual triggers.

-- Everything the API's event stream (`GET /api/v1/events`) delivers, in publication order.
-- InnoDB keeps the AUTO_INCREMENT counter across restarts (MySQL 8.0, MariaDB 10.2.4), so an
-- event id is never reused. Replicas notice new events by polling the newest id.
CREATE TABLE events (
    id      BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at_ms   BIGINT NOT NULL,
    kind    VARCHAR(255) NOT NULL,
    payload MEDIUMTEXT NOT NULL,
    KEY events_by_time (at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- "Run this job now" requests (`POST /jobs/{id}/trigger`), picked up by the job's owner.
-- The tick's instant is fixed when the request is accepted, so it is run at most once.
CREATE TABLE manual_triggers (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    job_id          VARCHAR(255) NOT NULL,
    scheduled_at_ms BIGINT NOT NULL,
    UNIQUE KEY manual_triggers_by_job_tick (job_id, scheduled_at_ms),
    CONSTRAINT manual_triggers_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
