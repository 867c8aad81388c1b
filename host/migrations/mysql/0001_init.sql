-- wasmcron schema, version 1 (MySQL 8.0+ and MariaDB 10.6+).
-- Every instant is a Unix epoch in milliseconds (BIGINT), stamped by the database clock.
--
-- Every table is InnoDB (row locks, foreign keys, transactions) in utf8mb4 with the binary
-- collation `utf8mb4_bin`, so text compares byte for byte as on PostgreSQL and SQLite (the
-- servers' default collations ignore case). Keys and names are VARCHAR(255) (a TEXT column
-- cannot be a key without a prefix length); long free text is MEDIUMTEXT (TEXT holds 64 KiB
-- less one byte, and logs keep up to 64 KiB). TEXT columns have no defaults (MySQL before
-- 8.0.13 refuses them): the store always writes every column.

-- Replicas of the host that share this database.
CREATE TABLE instances (
    id              VARCHAR(255) NOT NULL PRIMARY KEY,
    address         VARCHAR(1024) NOT NULL,
    version         VARCHAR(255) NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    heartbeat_at_ms BIGINT NOT NULL,
    left_at_ms      BIGINT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Job definitions plus their current owner (replica) and ownership epoch.
CREATE TABLE jobs (
    id                 VARCHAR(255) NOT NULL PRIMARY KEY,
    name               VARCHAR(255) NOT NULL,
    schedule           VARCHAR(1024) NOT NULL,
    timezone           VARCHAR(255) NOT NULL DEFAULT 'UTC',
    plugin             VARCHAR(255) NOT NULL,
    input              MEDIUMTEXT NOT NULL,
    config             MEDIUMTEXT NOT NULL,
    paused             BOOLEAN NOT NULL DEFAULT FALSE,
    overlap            VARCHAR(32) NOT NULL DEFAULT 'skip',
    misfire            VARCHAR(32) NOT NULL DEFAULT 'run_once',
    catchup_window_ms  BIGINT NOT NULL DEFAULT 3600000,
    jitter_ms          BIGINT NOT NULL DEFAULT 0,
    timeout_ms         BIGINT NULL,
    memory_limit_bytes BIGINT NULL,
    allowed_hosts      MEDIUMTEXT NOT NULL,
    owner              VARCHAR(255) NULL,
    epoch              BIGINT NOT NULL DEFAULT 0,
    version            BIGINT NOT NULL DEFAULT 1,
    anchor_ms          BIGINT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    UNIQUE KEY jobs_by_name (name),
    KEY jobs_by_owner (owner)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per tick of a job: (job_id, scheduled_at_ms) is the tick's durable identity.
CREATE TABLE runs (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    job_id          VARCHAR(255) NOT NULL,
    scheduled_at_ms BIGINT NOT NULL,
    status          VARCHAR(16) NOT NULL,
    reason          VARCHAR(64) NULL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    catch_up        BOOLEAN NOT NULL DEFAULT FALSE,
    manual          BOOLEAN NOT NULL DEFAULT FALSE,
    instance_id     VARCHAR(255) NULL,
    epoch           BIGINT NOT NULL,
    plugin_digest   VARCHAR(255) NULL,
    started_at_ms   BIGINT NULL,
    finished_at_ms  BIGINT NULL,
    duration_ms     BIGINT NULL,
    result          MEDIUMTEXT NULL,
    error           MEDIUMTEXT NULL,
    logs            MEDIUMTEXT NULL,
    CONSTRAINT runs_status CHECK (status IN
        ('running', 'succeeded', 'failed', 'timed_out', 'skipped', 'missed')),
    -- Also the index that lists a job's runs newest first (read backwards).
    UNIQUE KEY runs_by_job_tick (job_id, scheduled_at_ms),
    KEY runs_by_status_tick (status, scheduled_at_ms),
    KEY runs_by_tick (scheduled_at_ms),
    CONSTRAINT runs_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Small key/value state that plugins keep between runs (`key` is a reserved word).
CREATE TABLE job_state (
    job_id        VARCHAR(255) NOT NULL,
    `key`         VARCHAR(255) NOT NULL,
    value         MEDIUMBLOB NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (job_id, `key`),
    CONSTRAINT job_state_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Cluster-wide settings; every value is JSON text.
CREATE TABLE settings (
    `key`         VARCHAR(255) NOT NULL PRIMARY KEY,
    value         MEDIUMTEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Named leases (leader election).
CREATE TABLE leases (
    name          VARCHAR(255) NOT NULL PRIMARY KEY,
    holder        VARCHAR(255) NOT NULL,
    epoch         BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
