-- wasmcron schema, version 12 (PostgreSQL): the alert outbox.

-- One row per alert and webhook: written once for the cluster (`dedup_key` names the fact
-- and the webhook), delivered once. A replica claims a due row by setting `holder` and a
-- lease (`lease_until_ms`, database clock) and bumping `claim`; only the holder of that claim
-- records the outcome. A failed delivery is due again at `next_at_ms`; after the retry
-- window it is given up. Rows of one job and webhook (`job_key`, `target`) are delivered in
-- id order: a row waits while an older one of its chain is pending.
CREATE TABLE alert_outbox (
    id             BIGSERIAL PRIMARY KEY,
    dedup_key      TEXT NOT NULL UNIQUE,
    event          TEXT NOT NULL,
    job_key        TEXT NOT NULL,
    job_name       TEXT,
    target         TEXT NOT NULL,
    host           TEXT NOT NULL,
    body           TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at_ms  BIGINT NOT NULL,
    next_at_ms     BIGINT NOT NULL,
    holder         TEXT,
    lease_until_ms BIGINT,
    claim          BIGINT NOT NULL DEFAULT 0,
    done_at_ms     BIGINT
);

CREATE INDEX alert_outbox_chains ON alert_outbox (state, job_key, target, id);
