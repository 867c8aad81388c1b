-- wasmcron schema, version 12 (SQLite): the alert outbox.

-- One row per alert and webhook: written once (`dedup_key` names the fact and the webhook),
-- delivered once. A delivery is claimed with a lease (`holder`, `lease_until_ms`, `claim`);
-- a failed one is due again at `next_at_ms`, and given up after the retry window. Rows of
-- one job and webhook (`job_key`, `target`) are delivered in id order.
CREATE TABLE alert_outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
    created_at_ms  INTEGER NOT NULL,
    next_at_ms     INTEGER NOT NULL,
    holder         TEXT,
    lease_until_ms INTEGER,
    claim          INTEGER NOT NULL DEFAULT 0,
    done_at_ms     INTEGER
) STRICT;

CREATE INDEX alert_outbox_chains ON alert_outbox (state, job_key, target, id);
