-- wasmcron schema, version 5 (MySQL/MariaDB): change notifications without NOTIFY.

-- Every announced change (a job written, a replica joined or handed jobs over, a setting or
-- token written) is a row here; each replica's listeners read the rows after the last one
-- they saw every 200 ms. Rows older than a minute are deleted as new ones are written.
CREATE TABLE changes (
    id      BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel VARCHAR(64) NOT NULL,
    payload VARCHAR(1024) NOT NULL,
    at_ms   BIGINT NOT NULL,
    KEY changes_by_time (at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
