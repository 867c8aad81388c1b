-- wasmcron schema, version 14 (SQLite): the audit log.

-- One row per change to a job, a setting or an API token: who made it (`actor`: a token's
-- name, `bootstrap`, `anonymous`, `system`, `jobs-file`), what (`action`), on what (`job_id`
-- for a job, `target`: the job's name, the setting's key or the token's name), when
-- (`at_ms`, database clock) and the changed fields before and after (JSON text, NULL for
-- none). Listed newest first by id; pruned with run history.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    job_id      TEXT,
    target      TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_job ON audit_log (job_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
