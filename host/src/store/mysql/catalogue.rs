//! The MySQL/MariaDB catalogue: every statement the shared executors run, in SQL that MySQL 8.0
//! and MariaDB 10.6 both read the same way (see the module root for what was checked).
//!
//! `?` placeholders in the order the [`Catalogue`] documents. The operations the driver runs
//! itself (no `RETURNING`: `writes.rs`, `batches.rs`) use the write statements here where their
//! parameters are the documented ones, and their own statements otherwise; the fields they do
//! not use hold [`OWN`].

use crate::store::sql::Catalogue;

/// The field of an operation the driver runs with statements of its own: never executed by
/// the shared executors (and harmless if it were: it selects no row).
pub(super) const OWN: &str = "SELECT NULL FROM DUAL WHERE FALSE";

pub(super) const SQL: Catalogue = Catalogue {
    begin_write: "BEGIN",
    now: concat!("SELECT ", now_ms!()),
    ping: "SELECT 1",
    schema_table: "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    schema_version: "SELECT MAX(version) FROM _sqlx_migrations WHERE success",

    // Written, then read back by id (`writes.rs`).
    insert_job: concat!(
        "INSERT INTO jobs (id, name, schedule, timezone, plugin, input, config, paused, \
         overlap, misfire, catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, \
         allowed_hosts, failure, secrets, managed_by, owner, epoch, version, anchor_ms, \
         created_at_ms, updated_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, 1, ",
        now_ms!(),
        ", ",
        now_ms!(),
        ", ",
        now_ms!(),
        ")"
    ),
    job_by_id_or_name: concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1"
    ),
    job_by_id: concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = ?"),
    list_jobs: concat!("SELECT ", job_columns!(), " FROM jobs"),
    // Written, then read back by id (`writes.rs`). The clock is read once per statement, so
    // both uses of it are the same instant.
    update_job: concat!(
        "UPDATE jobs SET name = ?, schedule = ?, timezone = ?, plugin = ?, input = ?, \
         config = ?, paused = ?, overlap = ?, misfire = ?, catchup_window_ms = ?, \
         jitter_ms = ?, timeout_ms = ?, memory_limit_bytes = ?, allowed_hosts = ?, \
         failure = ?, paused_reason = ?, secrets = ?, version = version + 1, updated_at_ms = ",
        now_ms!(),
        ", anchor_ms = CASE WHEN ? THEN ",
        now_ms!(),
        " ELSE anchor_ms END WHERE id = ? AND version = ?"
    ),
    delete_job: "DELETE FROM jobs WHERE id = ?",

    // One statement whose share lock on the job row lasts until it commits; a second start
    // of the tick fails on the unique key (`writes.rs`).
    begin_run: concat!(
        "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
         instance_id, epoch, plugin_digest, started_at_ms) \
         SELECT j.id, ?, 'running', ?, ?, ?, j.owner, j.epoch, ?, ",
        now_ms!(),
        " FROM jobs j WHERE j.id = ? AND j.owner = ? AND j.epoch = ? LOCK IN SHARE MODE"
    ),
    tick_recorded: "SELECT COUNT(*) FROM runs WHERE job_id = ? AND scheduled_at_ms = ?",
    finish_run: concat!(
        "UPDATE runs SET status = ?, result = ?, error = ?, logs = ?, finished_at_ms = ",
        now_ms!(),
        ", duration_ms = ",
        now_ms!(),
        " - started_at_ms WHERE id = ? AND status = 'running' AND epoch = ? \
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.epoch = runs.epoch)"
    ),
    // A locking read, so that a transaction checking ownership before it writes holds the
    // job row until it commits (the shared `record_ticks` default relies on it).
    owns_job: "SELECT COUNT(*) FROM jobs WHERE id = ? AND owner = ? AND epoch = ? \
         LOCK IN SHARE MODE",
    record_tick: concat!(
        "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, \
         manual, instance_id, epoch, finished_at_ms) \
         VALUES (?, ?, ?, ?, 1, FALSE, FALSE, ?, ?, ",
        now_ms!(),
        ")"
    ),
    abandon_runs: concat!(
        "UPDATE runs SET status = 'failed', reason = ?, error = COALESCE(error, ?), \
         finished_at_ms = ",
        now_ms!(),
        ", duration_ms = ",
        now_ms!(),
        " - started_at_ms WHERE job_id = ? AND status = 'running' AND epoch < ?"
    ),

    plan_retry: concat!(
        "INSERT INTO run_retries (job_id, scheduled_at_ms, attempt, due_at_ms, catch_up, \
         manual) SELECT job_id, scheduled_at_ms, attempt + 1, ",
        now_ms!(),
        " + ?, catch_up, manual FROM runs WHERE id = ?"
    ),
    retry_wait: concat!(
        "SELECT due_at_ms - ",
        now_ms!(),
        " FROM run_retries WHERE job_id = ? AND scheduled_at_ms = ? AND attempt = ?"
    ),
    consume_retry: "DELETE FROM run_retries \
         WHERE job_id = ? AND scheduled_at_ms = ? AND attempt = ?",
    lock_job_row: "SELECT 1 FROM jobs j WHERE j.id = ? LOCK IN SHARE MODE",
    attempt_id: "SELECT id FROM runs WHERE job_id = ? AND scheduled_at_ms = ? AND attempt = ?",
    owned_retries: "SELECT r.job_id, r.scheduled_at_ms, r.attempt, r.due_at_ms, \
         r.catch_up, r.manual FROM run_retries r JOIN jobs j ON j.id = r.job_id \
         WHERE j.owner = ? ORDER BY r.due_at_ms LIMIT 1000",
    drop_retries: "DELETE FROM run_retries WHERE job_id = ?",

    last_success: "SELECT MAX(finished_at_ms) FROM runs WHERE job_id = ? AND status = 'succeeded'",
    mark_stale: concat!(
        "INSERT IGNORE INTO job_stale (job_id, since_ms) SELECT id, ",
        now_ms!(),
        " FROM jobs WHERE id = ?"
    ),
    clear_stale: "DELETE FROM job_stale WHERE job_id = ?",
    stale_jobs: "SELECT job_id FROM job_stale ORDER BY job_id",

    run_by_id: concat!("SELECT ", run_columns!(), " FROM runs WHERE id = ?"),
    last_tick: "SELECT MAX(scheduled_at_ms) FROM runs WHERE job_id = ? AND NOT manual",
    running_count: "SELECT COUNT(*) FROM runs WHERE job_id = ? AND status = 'running'",

    // A table cannot be read in a subquery of a statement that deletes from it, nor can an
    // IN subquery have a LIMIT: the ids come from a derived table, which is materialized
    // (a derived table with LIMIT or an aggregate is never merged into the outer query).
    delete_runs: "DELETE r FROM runs r JOIN (SELECT o.id FROM runs o \
         WHERE o.scheduled_at_ms < ? AND o.status <> 'running' \
         AND (o.manual OR EXISTS (SELECT 1 FROM runs n WHERE n.job_id = o.job_id \
              AND NOT n.manual AND n.scheduled_at_ms > o.scheduled_at_ms)) \
         LIMIT ?) d ON d.id = r.id",
    prune_events: "DELETE FROM events WHERE at_ms < ? \
         OR id <= (SELECT m.top FROM (SELECT COALESCE(MAX(id), 0) AS top FROM events) m) - ?",
    expire_triggers: "DELETE FROM manual_triggers WHERE scheduled_at_ms < ?",
    delete_stale_instances: concat!(
        "DELETE FROM instances WHERE heartbeat_at_ms < ",
        now_ms!(),
        " - ? AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.owner = instances.id)"
    ),

    // Upserted, then read back (`writes.rs`). MySQL evaluates the assignments of ON DUPLICATE
    // KEY UPDATE left to right, so `started_at_ms` reads `left_at_ms` before it is cleared.
    // `VALUES(col)` is deprecated since MySQL 8.0.20 (a warning) in favour of a row alias,
    // which MariaDB does not have.
    heartbeat: concat!(
        "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, \
         left_at_ms) VALUES (?, ?, ?, ",
        now_ms!(),
        ", ",
        now_ms!(),
        ", NULL) ON DUPLICATE KEY UPDATE address = VALUES(address), \
         version = VALUES(version), heartbeat_at_ms = VALUES(heartbeat_at_ms), \
         started_at_ms = IF(left_at_ms IS NULL, started_at_ms, VALUES(started_at_ms)), \
         left_at_ms = NULL"
    ),
    leave: concat!(
        "UPDATE instances SET left_at_ms = ",
        now_ms!(),
        " WHERE id = ?"
    ),
    live_instances: concat!(
        "SELECT ",
        instance_columns!(),
        " FROM instances WHERE id IN (",
        live_ids!(now_ms!(), live_session!(), "?"),
        ") ORDER BY id"
    ),
    all_instances: concat!(
        "SELECT ",
        instance_columns!(),
        " FROM instances ORDER BY id"
    ),
    // MySQL sorts NULL first: the unowned count goes last by `id IS NULL`.
    orphans: concat!(
        "SELECT id, n FROM (SELECT d.id AS id, \
         (SELECT COUNT(*) FROM jobs j WHERE j.owner = d.id) AS n \
         FROM instances d WHERE d.id NOT IN (",
        live_ids!(now_ms!(), live_session!(), "?"),
        ") AND EXISTS (SELECT 1 FROM jobs j WHERE j.owner = d.id) \
         UNION ALL SELECT NULL AS id, COUNT(*) AS n FROM jobs WHERE owner IS NULL) o \
         ORDER BY id IS NULL, id"
    ),

    // Run as a locking read, an update and a read back (`writes.rs`).
    claim_jobs: OWN,
    ownership: concat!(
        "WITH live AS (",
        live_ids!(now_ms!(), live_session!(), "?"),
        "), c AS (SELECT owner, COUNT(*) AS n FROM jobs GROUP BY owner) \
         SELECT id, n, live FROM (\
         SELECT l.id AS id, COALESCE(c.n, 0) AS n, CAST(1 AS SIGNED) AS live \
         FROM live l LEFT JOIN c ON c.owner = l.id \
         UNION ALL SELECT c.owner AS id, c.n AS n, CAST(0 AS SIGNED) AS live FROM c \
         WHERE c.owner IS NULL OR c.owner NOT IN (SELECT id FROM live)) o \
         ORDER BY live DESC, id IS NULL, id"
    ),
    claim_unowned: "UPDATE jobs SET owner = ?, epoch = epoch + 1 WHERE id = ? AND owner IS NULL",
    hand_over: "UPDATE jobs SET owner = ?, epoch = epoch + 1 \
         WHERE id = ? AND epoch = ? AND owner = ?",
    release_jobs: "UPDATE jobs SET owner = NULL, epoch = epoch + 1 WHERE owner = ?",
    release_job: "UPDATE jobs SET owner = NULL, epoch = epoch + 1 \
         WHERE id = ? AND owner = ? AND epoch = ?",
    owned_jobs: concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE owner = ? ORDER BY name"
    ),
    owned_versions: "SELECT id, version, epoch FROM jobs WHERE owner = ? ORDER BY id",
    owned_counts: "SELECT owner, COUNT(*) FROM jobs WHERE owner IS NOT NULL \
         GROUP BY owner ORDER BY owner",

    // A multi-table UPDATE: its assignments may run in any order, and none reads another.
    abandon_taken: concat!(
        "UPDATE runs r JOIN jobs j ON j.id = r.job_id SET r.status = 'failed', r.reason = ?, \
         r.error = COALESCE(r.error, ?), r.finished_at_ms = ",
        now_ms!(),
        ", r.duration_ms = ",
        now_ms!(),
        " - r.started_at_ms WHERE r.status = 'running' \
         AND r.epoch < j.epoch AND r.job_id IN ",
        json_ids!()
    ),
    jobs_among: concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id IN ",
        json_ids!(),
        " ORDER BY name"
    ),
    newest_ticks: concat!(
        "SELECT x.job_id, x.m, (SELECT COUNT(*) FROM runs r WHERE r.job_id = x.job_id \
         AND r.attempt = 1 AND NOT r.manual AND r.scheduled_at_ms <= x.m AND r.scheduled_at_ms > \
         CASE WHEN j.anchor_ms > x.lo THEN j.anchor_ms ELSE x.lo END) \
         FROM (SELECT job_id, MAX(scheduled_at_ms) AS m, MAX(scheduled_at_ms) - ? AS lo \
         FROM runs WHERE NOT manual AND job_id IN ",
        json_ids!(),
        " GROUP BY job_id) x JOIN jobs j ON j.id = x.job_id"
    ),
    ticks_after: concat!(
        "SELECT job_id, scheduled_at_ms FROM runs WHERE NOT manual AND attempt = 1 \
         AND scheduled_at_ms > ? AND job_id IN ",
        json_ids!()
    ),

    // The generated id comes with the insert's answer (`writes.rs`).
    append_event: concat!(
        "INSERT INTO events (at_ms, kind, payload) VALUES (",
        now_ms!(),
        ", ?, ?)"
    ),
    events_after: concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE id > ? ORDER BY id LIMIT ?"
    ),
    last_event_id: "SELECT MAX(id) FROM events",
    // A trigger in the same millisecond is the same one: `LAST_INSERT_ID(id)` makes the
    // insert's answer carry the id of the row that was there (`writes.rs` reads its tick).
    insert_trigger: concat!(
        "INSERT INTO manual_triggers (job_id, scheduled_at_ms) SELECT j.id, ",
        now_ms!(),
        " FROM jobs j WHERE j.id = ? \
         ON DUPLICATE KEY UPDATE manual_triggers.id = LAST_INSERT_ID(manual_triggers.id)"
    ),
    pending_triggers: concat!(
        "SELECT ",
        trigger_columns!(),
        " FROM manual_triggers t JOIN jobs j ON j.id = t.job_id \
         WHERE t.id > ? ORDER BY t.id LIMIT ?"
    ),
    delete_trigger: "DELETE FROM manual_triggers WHERE id = ?",

    settings_all: "SELECT `key`, value FROM settings ORDER BY `key`",
    setting_put: concat!(
        "INSERT INTO settings (`key`, value, updated_at_ms) VALUES (?, ?, ",
        now_ms!(),
        ") ON DUPLICATE KEY UPDATE value = VALUES(value), \
         updated_at_ms = VALUES(updated_at_ms)"
    ),
    setting_delete: "DELETE FROM settings WHERE `key` = ?",
    tokens_all: "SELECT name, role, sha256, created_at_ms, created_by, last_used_ms \
         FROM api_tokens ORDER BY name",
    // Inserted (a taken name fails on the primary key), then read back (`writes.rs`).
    token_create: concat!(
        "INSERT INTO api_tokens (name, role, sha256, created_at_ms, created_by) \
         VALUES (?, ?, ?, ",
        now_ms!(),
        ", ?)"
    ),
    token_delete: "DELETE FROM api_tokens WHERE name = ?",
    token_touch: concat!(
        "UPDATE api_tokens SET last_used_ms = ",
        now_ms!(),
        " WHERE name = ?"
    ),

    // A locking read, then an insert or an update (`writes.rs`).
    acquire_lease: OWN,
    holds_lease: concat!(
        "SELECT COUNT(*) FROM leases WHERE name = ? AND holder = ? AND epoch = ? \
         AND expires_at_ms >= ",
        now_ms!()
    ),
    lease_holder: concat!(
        "SELECT holder FROM leases WHERE name = ? AND expires_at_ms >= ",
        now_ms!()
    ),
    release_lease: "DELETE FROM leases WHERE name = ? AND holder = ?",

    alert_insert: concat!(
        "INSERT IGNORE INTO alert_outbox (dedup_key, event, job_key, job_name, target, host, \
         body, state, created_at_ms, next_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ",
        now_ms!(),
        ", ",
        now_ms!(),
        ")"
    ),
    alert_heads: concat!(
        "SELECT a.id FROM alert_outbox a WHERE a.state = 'pending' AND a.next_at_ms <= (",
        now_ms!(),
        ") AND (a.lease_until_ms IS NULL OR a.lease_until_ms < (",
        now_ms!(),
        ") OR a.holder NOT IN (",
        live_ids!(now_ms!(), live_session!(), "?"),
        ")) AND NOT EXISTS (SELECT 1 FROM alert_outbox b WHERE b.state = 'pending' \
         AND b.job_key = a.job_key AND b.target = a.target AND b.id < a.id) \
         ORDER BY a.id LIMIT ?"
    ),
    alert_claim: concat!(
        "UPDATE alert_outbox SET holder = ?, claim = claim + 1, lease_until_ms = (",
        now_ms!(),
        ") + ? WHERE id = ? AND state = 'pending' AND next_at_ms <= (",
        now_ms!(),
        ") AND (lease_until_ms IS NULL OR lease_until_ms < (",
        now_ms!(),
        ") OR holder NOT IN (",
        live_ids!(now_ms!(), live_session!(), "?"),
        "))"
    ),
    alert_claimed: "SELECT id, claim, event, target, body, attempts, created_at_ms \
         FROM alert_outbox WHERE id = ? AND holder = ?",
    alert_delivered: concat!(
        "UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, \
         last_error = NULL, lease_until_ms = NULL, done_at_ms = (",
        now_ms!(),
        ") WHERE id = ? AND claim = ? AND state = 'pending'"
    ),
    alert_retry: concat!(
        "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, \
         lease_until_ms = NULL, next_at_ms = (",
        now_ms!(),
        ") + ? WHERE id = ? AND claim = ? AND state = 'pending'"
    ),
    alert_give_up: concat!(
        "UPDATE alert_outbox SET state = 'given_up', attempts = attempts + 1, \
         last_error = ?, lease_until_ms = NULL, done_at_ms = (",
        now_ms!(),
        ") WHERE id = ? AND claim = ? AND state = 'pending'"
    ),
    alerts_recent: "SELECT id, event, job_key, job_name, host, state, attempts, \
         last_error, created_at_ms, next_at_ms, done_at_ms FROM alert_outbox \
         ORDER BY id DESC LIMIT ?",
    prune_alerts: "DELETE FROM alert_outbox WHERE state <> 'pending' AND done_at_ms < ?",

    audit_insert: concat!(
        "INSERT INTO audit_log (at_ms, actor, action, job_id, target, before_json, \
         after_json) VALUES (",
        now_ms!(),
        ", ?, ?, ?, ?, ?, ?)"
    ),
    prune_audit: "DELETE FROM audit_log WHERE at_ms < ?",

    state_get: "SELECT value FROM job_state WHERE job_id = ? AND `key` = ?",
    state_set: concat!(
        "INSERT INTO job_state (job_id, `key`, value, updated_at_ms) SELECT j.id, ?, ?, ",
        now_ms!(),
        " FROM jobs j WHERE j.id = ? AND j.owner = ? AND j.epoch = ? LOCK IN SHARE MODE \
         ON DUPLICATE KEY UPDATE job_state.value = VALUES(value), \
         job_state.updated_at_ms = VALUES(updated_at_ms)"
    ),
    state_keys: "SELECT `key` FROM job_state WHERE job_id = ? ORDER BY `key`",
};
