-- wasmcron schema, version 14 (MySQL/MariaDB): the audit log.

-- One row per change to a job, a setting or an API token: who made it (`actor`: a token's
-- name, `bootstrap`, `anonymous`, `system`, `jobs-file`), what (`action`), on what (`job_id`
-- for a job, `target`: the job's name, the setting's key or the token's name), when
-- (`at_ms`, database clock) and the changed fields before and after (JSON text, NULL for
-- none). Listed newest first by id; pruned with run history.
CREATE TABLE audit_log (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    actor       VARCHAR(255) NOT NULL,
    action      VARCHAR(64) NOT NULL,
    job_id      VARCHAR(255),
    target      VARCHAR(255) NOT NULL,
    before_json MEDIUMTEXT,
    after_json  MEDIUMTEXT,
    KEY audit_log_at (at_ms),
    KEY audit_log_job (job_id, id),
    KEY audit_log_actor (actor, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
