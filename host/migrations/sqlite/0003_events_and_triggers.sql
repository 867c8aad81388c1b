-- wasmcron schema, version 3 (SQLite): the cluster's event history and manual triggers.

-- Everything the API's event stream (`GET /api/v1/events`) delivers, in publication order.
-- AUTOINCREMENT: an event id is never reused, so `Last-Event-ID` resumes exactly.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms   INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_time ON events (at_ms);

-- "Run this job now" requests (`POST /jobs/{id}/trigger`), picked up by the job's owner.
-- The tick's instant is fixed when the request is accepted, so it is run at most once.
CREATE TABLE manual_triggers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    scheduled_at_ms INTEGER NOT NULL,
    UNIQUE (job_id, scheduled_at_ms)
) STRICT;
