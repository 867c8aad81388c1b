-- wasmcron schema, version 12 (MySQL/MariaDB): the alert outbox.

-- One row per alert and webhook: written once for the cluster (`dedup_key` names the fact
-- and the webhook), delivered once. A replica claims a due row by setting `holder` and a
-- lease (`lease_until_ms`, database clock) and bumping `claim`; only the holder of that claim
-- records the outcome. A failed delivery is due again at `next_at_ms`; after the retry
-- window it is given up. Rows of one job and webhook (`job_key`, `target`) are delivered in
-- id order.
CREATE TABLE alert_outbox (
    id             BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    dedup_key      VARCHAR(700) NOT NULL,
    event          VARCHAR(64) NOT NULL,
    job_key        VARCHAR(255) NOT NULL,
    job_name       VARCHAR(255),
    target         VARCHAR(64) NOT NULL,
    host           VARCHAR(255) NOT NULL,
    body           MEDIUMTEXT NOT NULL,
    state          VARCHAR(16) NOT NULL,
    attempts       INT NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at_ms  BIGINT NOT NULL,
    next_at_ms     BIGINT NOT NULL,
    holder         VARCHAR(255),
    lease_until_ms BIGINT,
    claim          BIGINT NOT NULL DEFAULT 0,
    done_at_ms     BIGINT,
    UNIQUE KEY alert_outbox_dedup (dedup_key),
    KEY alert_outbox_chains (state, job_key, target, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
