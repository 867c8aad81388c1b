-- wasmcron schema, version 3 (PostgreSQL): the cluster's event history and manual triggers.

-- Everything the API's event stream (`GET /api/v1/events`) delivers, in publication order.
-- Every insert is followed by NOTIFY wasmcron_events, so replicas wake their listeners.
CREATE TABLE events (
    id      BIGSERIAL PRIMARY KEY,
    at_ms   BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE INDEX events_by_time ON events (at_ms);

-- "Run this job now" requests (`POST /jobs/{id}/trigger`), picked up by the job's owner.
-- The tick's instant is fixed when the request is accepted, so it is run at most once.
CREATE TABLE manual_triggers (
    id              BIGSERIAL PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    scheduled_at_ms BIGINT NOT NULL,
    UNIQUE (job_id, scheduled_at_ms)
);
