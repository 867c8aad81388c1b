-- wasmcron schema, version 1 (SQLite).
-- Every instant is a Unix epoch in milliseconds (INTEGER), stamped by the database clock.

-- Replicas of the host that share this database.
CREATE TABLE instances (
    id              TEXT PRIMARY KEY NOT NULL,
    address         TEXT NOT NULL,
    version         TEXT NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    heartbeat_at_ms INTEGER NOT NULL,
    left_at_ms      INTEGER
) STRICT;

-- Job definitions plus their current owner (replica) and ownership epoch.
CREATE TABLE jobs (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL UNIQUE,
    schedule           TEXT NOT NULL,
    timezone           TEXT NOT NULL DEFAULT 'UTC',
    plugin             TEXT NOT NULL,
    input              TEXT NOT NULL DEFAULT 'null',
    config             TEXT NOT NULL DEFAULT '{}',
    paused             INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    overlap            TEXT NOT NULL DEFAULT 'skip',
    misfire            TEXT NOT NULL DEFAULT 'run_once',
    catchup_window_ms  INTEGER NOT NULL DEFAULT 3600000,
    jitter_ms          INTEGER NOT NULL DEFAULT 0,
    timeout_ms         INTEGER,
    memory_limit_bytes INTEGER,
    allowed_hosts      TEXT NOT NULL DEFAULT '[]',
    owner              TEXT,
    epoch              INTEGER NOT NULL DEFAULT 0,
    version            INTEGER NOT NULL DEFAULT 1,
    anchor_ms          INTEGER NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX jobs_by_owner ON jobs (owner);

-- One row per tick of a job: (job_id, scheduled_at_ms) is the tick's durable identity.
-- AUTOINCREMENT: a run id is never reused, even after the newest runs are deleted.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    scheduled_at_ms INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
                        ('running', 'succeeded', 'failed', 'timed_out', 'skipped', 'missed')),
    reason          TEXT,
    attempt         INTEGER NOT NULL DEFAULT 1,
    catch_up        INTEGER NOT NULL DEFAULT 0 CHECK (catch_up IN (0, 1)),
    manual          INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    instance_id     TEXT,
    epoch           INTEGER NOT NULL,
    plugin_digest   TEXT,
    started_at_ms   INTEGER,
    finished_at_ms  INTEGER,
    duration_ms     INTEGER,
    result          TEXT,
    error           TEXT,
    logs            TEXT
) STRICT;

-- The unique index is also the one that lists a job's runs newest first
-- (a B-tree is scanned backwards as cheaply as forwards).
CREATE UNIQUE INDEX runs_by_job_tick ON runs (job_id, scheduled_at_ms DESC);
CREATE INDEX runs_by_status_tick ON runs (status, scheduled_at_ms);
CREATE INDEX runs_by_tick ON runs (scheduled_at_ms);

-- Small key/value state that plugins keep between runs.
CREATE TABLE job_state (
    job_id        TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (job_id, key)
) STRICT;

-- Cluster-wide settings; every value is JSON text.
CREATE TABLE settings (
    key           TEXT PRIMARY KEY NOT NULL,
    value         TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Named leases (leader election).
CREATE TABLE leases (
    name          TEXT PRIMARY KEY NOT NULL,
    holder        TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
