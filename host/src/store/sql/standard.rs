//! `standard_sql!`: the [`Catalogue`](super::Catalogue) of an engine that speaks the SQL
//! SQLite and PostgreSQL share (`$n` placeholders, `INSERT … ON CONFLICT … DO`, `RETURNING`,
//! `UPDATE … FROM`), assembled from the few pieces of text where they differ.
//!
//! The text written here is the same on both engines; what differs is passed in by the
//! engine's module, so each engine's SQL still reads from its module: the clock, what else
//! makes a replica live, the lock a fenced write takes on its job row, the lock a claim
//! takes, how a JSON array of ids becomes a set of rows, how a write transaction starts and
//! where the migration table is. An engine replaces any other statement with struct update
//! syntax: `Catalogue { claim_jobs: "…", ..standard_sql!(…) }`.

/// Ids of the live instances, as a subquery: not left, a heartbeat within the dead threshold
/// (placeholder `$p`), and the engine's own condition on `i`.
macro_rules! live_ids {
    ($now:expr, $session:expr, $p:literal) => {
        concat!(
            "SELECT i.id FROM instances i WHERE i.left_at_ms IS NULL AND i.heartbeat_at_ms >= ",
            $now,
            " - ",
            $p,
            $session
        )
    };
}

/// The standard catalogue, from an engine's pieces:
/// - `now`: the clock, Unix epoch milliseconds as a 64-bit integer;
/// - `live_session`: appended to the liveness condition on `instances i` (`""` for none);
/// - `lock_job`: appended to the `SELECT … FROM jobs j` of a fenced write (`""` for none);
/// - `claim_lock`: appended to the `SELECT` of the jobs a claim takes (`""` for none);
/// - `json_ids`: the text before and after a placeholder holding a JSON array of ids that
///   turns it into a one-column set of rows;
/// - `begin_write`, `schema_table`: the statements of the same names.
macro_rules! standard_sql {
    (
        now: $now:expr,
        live_session: $session:expr,
        lock_job: $lock:expr,
        claim_lock: $claim:expr,
        json_ids: ($ids_open:expr, $ids_close:expr),
        begin_write: $begin_write:expr,
        schema_table: $schema_table:expr $(,)?
    ) => {
        $crate::store::sql::Catalogue {
            begin_write: $begin_write,
            now: concat!("SELECT ", $now),
            ping: "SELECT 1",
            schema_table: $schema_table,
            schema_version: "SELECT MAX(version) FROM _sqlx_migrations WHERE success",

            insert_job: concat!(
                "INSERT INTO jobs (id, name, schedule, timezone, plugin, input, config, paused, \
                 overlap, misfire, catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, \
                 allowed_hosts, failure, secrets, managed_by, owner, epoch, version, anchor_ms, \
                 created_at_ms, updated_at_ms) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, NULL, 0, 1, t.ms, t.ms, t.ms FROM (SELECT ",
                $now,
                " AS ms) t RETURNING ",
                job_columns!()
            ),
            job_by_id_or_name: concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE id = $1 OR name = $2 ORDER BY (id = $3) DESC LIMIT 1"
            ),
            job_by_id: concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"),
            list_jobs: concat!("SELECT ", job_columns!(), " FROM jobs"),
            update_job: concat!(
                "UPDATE jobs SET name = $1, schedule = $2, timezone = $3, plugin = $4, \
                 input = $5, config = $6, paused = $7, overlap = $8, misfire = $9, \
                 catchup_window_ms = $10, jitter_ms = $11, timeout_ms = $12, \
                 memory_limit_bytes = $13, allowed_hosts = $14, failure = $15, \
                 paused_reason = $16, secrets = $17, version = version + 1, \
                 updated_at_ms = t.ms, anchor_ms = CASE WHEN $18 THEN t.ms ELSE anchor_ms END \
                 FROM (SELECT ",
                $now,
                " AS ms) t WHERE id = $19 AND version = $20 RETURNING ",
                job_columns!()
            ),
            delete_job: "DELETE FROM jobs WHERE id = $1",

            begin_run: concat!(
                "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
                 instance_id, epoch, plugin_digest, started_at_ms) \
                 SELECT j.id, $1, 'running', $2, $3, $4, j.owner, j.epoch, $5, ",
                $now,
                " FROM jobs j WHERE j.id = $6 AND j.owner = $7 AND j.epoch = $8",
                $lock,
                " ON CONFLICT (job_id, scheduled_at_ms, attempt) DO NOTHING RETURNING id"
            ),
            tick_recorded: "SELECT COUNT(*) FROM runs WHERE job_id = $1 AND scheduled_at_ms = $2",
            finish_run: concat!(
                "UPDATE runs SET status = $1, result = $2, error = $3, logs = $4, \
                 finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
                 FROM (SELECT ",
                $now,
                " AS ms) t WHERE runs.id = $5 AND runs.status = 'running' AND runs.epoch = $6 \
                 AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id \
                 AND j.epoch = runs.epoch)"
            ),
            owns_job: "SELECT COUNT(*) FROM jobs WHERE id = $1 AND owner = $2 AND epoch = $3",
            record_tick: concat!(
                "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, \
                 manual, instance_id, epoch, finished_at_ms) \
                 VALUES ($1, $2, $3, $4, 1, FALSE, FALSE, $5, $6, ",
                $now,
                ") ON CONFLICT (job_id, scheduled_at_ms, attempt) DO NOTHING"
            ),
            abandon_runs: concat!(
                "UPDATE runs SET status = 'failed', reason = $1, error = COALESCE(error, $2), \
                 finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
                 FROM (SELECT ",
                $now,
                " AS ms) t WHERE runs.job_id = $3 AND runs.status = 'running' \
                 AND runs.epoch < $4"
            ),

            plan_retry: concat!(
                "INSERT INTO run_retries (job_id, scheduled_at_ms, attempt, due_at_ms, catch_up, \
                 manual) SELECT job_id, scheduled_at_ms, attempt + 1, ",
                $now,
                " + $1, catch_up, manual FROM runs WHERE id = $2"
            ),
            retry_wait: concat!(
                "SELECT due_at_ms - ",
                $now,
                " FROM run_retries WHERE job_id = $1 AND scheduled_at_ms = $2 AND attempt = $3"
            ),
            consume_retry: "DELETE FROM run_retries \
                 WHERE job_id = $1 AND scheduled_at_ms = $2 AND attempt = $3",
            lock_job_row: concat!("SELECT 1 FROM jobs j WHERE j.id = $1", $lock),
            attempt_id: "SELECT id FROM runs \
                 WHERE job_id = $1 AND scheduled_at_ms = $2 AND attempt = $3",
            owned_retries: "SELECT r.job_id, r.scheduled_at_ms, r.attempt, r.due_at_ms, \
                 r.catch_up, r.manual FROM run_retries r JOIN jobs j ON j.id = r.job_id \
                 WHERE j.owner = $1 ORDER BY r.due_at_ms LIMIT 1000",
            drop_retries: "DELETE FROM run_retries WHERE job_id = $1",

            last_success: "SELECT MAX(finished_at_ms) FROM runs \
                 WHERE job_id = $1 AND status = 'succeeded'",
            mark_stale: concat!(
                "INSERT INTO job_stale (job_id, since_ms) SELECT id, ",
                $now,
                " FROM jobs WHERE id = $1 ON CONFLICT (job_id) DO NOTHING"
            ),
            clear_stale: "DELETE FROM job_stale WHERE job_id = $1",
            stale_jobs: "SELECT job_id FROM job_stale ORDER BY job_id",

            run_by_id: concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1"),
            last_tick: "SELECT MAX(scheduled_at_ms) FROM runs WHERE job_id = $1 AND NOT manual",
            running_count: "SELECT COUNT(*) FROM runs WHERE job_id = $1 AND status = 'running'",

            delete_runs: "DELETE FROM runs WHERE id IN ( \
                 SELECT r.id FROM runs r WHERE r.scheduled_at_ms < $1 AND r.status <> 'running' \
                 AND (r.manual OR EXISTS (SELECT 1 FROM runs n WHERE n.job_id = r.job_id \
                      AND NOT n.manual AND n.scheduled_at_ms > r.scheduled_at_ms)) \
                 LIMIT $2)",
            prune_events: "DELETE FROM events WHERE at_ms < $1 \
                 OR id <= (SELECT COALESCE(MAX(id), 0) FROM events) - $2",
            expire_triggers: "DELETE FROM manual_triggers WHERE scheduled_at_ms < $1",
            delete_stale_instances: concat!(
                "DELETE FROM instances WHERE heartbeat_at_ms < ",
                $now,
                " - $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.owner = instances.id)"
            ),

            heartbeat: concat!(
                "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, \
                 left_at_ms) SELECT $1, $2, $3, t.ms, t.ms, NULL FROM (SELECT ",
                $now,
                " AS ms) t WHERE true \
                 ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
                 version = excluded.version, heartbeat_at_ms = excluded.heartbeat_at_ms, \
                 started_at_ms = CASE WHEN instances.left_at_ms IS NULL \
                     THEN instances.started_at_ms ELSE excluded.started_at_ms END, \
                 left_at_ms = NULL \
                 RETURNING heartbeat_at_ms"
            ),
            leave: concat!("UPDATE instances SET left_at_ms = ", $now, " WHERE id = $1"),
            live_instances: concat!(
                "SELECT ",
                instance_columns!(),
                " FROM instances WHERE id IN (",
                live_ids!($now, $session, "$1"),
                ") ORDER BY id"
            ),
            all_instances: concat!("SELECT ", instance_columns!(), " FROM instances ORDER BY id"),
            orphans: concat!(
                "SELECT d.id AS id, (SELECT COUNT(*) FROM jobs j WHERE j.owner = d.id) AS n \
                 FROM instances d WHERE d.id NOT IN (",
                live_ids!($now, $session, "$1"),
                ") AND EXISTS (SELECT 1 FROM jobs j WHERE j.owner = d.id) \
                 UNION ALL SELECT NULL AS id, COUNT(*) AS n FROM jobs WHERE owner IS NULL \
                 ORDER BY id NULLS LAST"
            ),

            claim_jobs: concat!(
                "UPDATE jobs SET owner = $1, epoch = epoch + 1 WHERE id IN ( \
                 SELECT j.id FROM jobs j WHERE j.owner IS NULL OR (j.owner <> $2 \
                 AND j.owner NOT IN (",
                live_ids!($now, $session, "$3"),
                ")) ORDER BY j.name LIMIT $4",
                $claim,
                ") RETURNING ",
                job_columns!()
            ),
            ownership: concat!(
                "WITH live AS (",
                live_ids!($now, $session, "$1"),
                "), c AS (SELECT owner, COUNT(*) AS n FROM jobs GROUP BY owner) \
                 SELECT l.id AS id, COALESCE(c.n, 0) AS n, CAST(1 AS BIGINT) AS live \
                 FROM live l LEFT JOIN c ON c.owner = l.id \
                 UNION ALL SELECT c.owner AS id, c.n AS n, CAST(0 AS BIGINT) AS live FROM c \
                 WHERE c.owner IS NULL OR c.owner NOT IN (SELECT id FROM live) \
                 ORDER BY live DESC, id"
            ),
            claim_unowned: "UPDATE jobs SET owner = $1, epoch = epoch + 1 \
                 WHERE id = $2 AND owner IS NULL",
            hand_over: "UPDATE jobs SET owner = $1, epoch = epoch + 1 \
                 WHERE id = $2 AND epoch = $3 AND owner = $4",
            release_jobs: "UPDATE jobs SET owner = NULL, epoch = epoch + 1 WHERE owner = $1",
            release_job: "UPDATE jobs SET owner = NULL, epoch = epoch + 1 \
                 WHERE id = $1 AND owner = $2 AND epoch = $3",
            owned_jobs: concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE owner = $1 ORDER BY name"
            ),
            owned_versions: "SELECT id, version, epoch FROM jobs WHERE owner = $1 ORDER BY id",
            owned_counts: "SELECT owner, COUNT(*) FROM jobs WHERE owner IS NOT NULL \
                 GROUP BY owner ORDER BY owner",

            abandon_taken: concat!(
                "UPDATE runs SET status = 'failed', reason = $1, \
                 error = COALESCE(runs.error, $2), \
                 finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
                 FROM (SELECT ",
                $now,
                " AS ms) t, jobs j WHERE runs.status = 'running' AND j.id = runs.job_id \
                 AND runs.epoch < j.epoch AND runs.job_id IN ",
                $ids_open,
                "$3",
                $ids_close
            ),
            jobs_among: concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE id IN ",
                $ids_open,
                "$1",
                $ids_close,
                " ORDER BY name"
            ),
            newest_ticks: concat!(
                "SELECT x.job_id, x.m, (SELECT COUNT(*) FROM runs r WHERE r.job_id = x.job_id \
                 AND r.attempt = 1 AND NOT r.manual AND r.scheduled_at_ms <= x.m AND r.scheduled_at_ms > \
                 CASE WHEN j.anchor_ms > x.lo THEN j.anchor_ms ELSE x.lo END) \
                 FROM (SELECT job_id, MAX(scheduled_at_ms) AS m, MAX(scheduled_at_ms) - $1 AS lo \
                 FROM runs WHERE NOT manual AND job_id IN ",
                $ids_open,
                "$2",
                $ids_close,
                " GROUP BY job_id) x JOIN jobs j ON j.id = x.job_id"
            ),
            ticks_after: concat!(
                "SELECT job_id, scheduled_at_ms FROM runs WHERE NOT manual AND attempt = 1 \
                 AND scheduled_at_ms > $1 AND job_id IN ",
                $ids_open,
                "$2",
                $ids_close
            ),

            append_event: concat!(
                "INSERT INTO events (at_ms, kind, payload) VALUES (",
                $now,
                ", $1, $2) RETURNING id"
            ),
            events_after: concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE id > $1 ORDER BY id LIMIT $2"
            ),
            last_event_id: "SELECT MAX(id) FROM events",
            insert_trigger: concat!(
                "INSERT INTO manual_triggers (job_id, scheduled_at_ms) SELECT id, ",
                $now,
                " FROM jobs WHERE id = $1 \
                 ON CONFLICT (job_id, scheduled_at_ms) DO UPDATE SET job_id = excluded.job_id \
                 RETURNING scheduled_at_ms"
            ),
            pending_triggers: concat!(
                "SELECT ",
                trigger_columns!(),
                " FROM manual_triggers t JOIN jobs j ON j.id = t.job_id \
                 WHERE t.id > $1 ORDER BY t.id LIMIT $2"
            ),
            delete_trigger: "DELETE FROM manual_triggers WHERE id = $1",

            settings_all: "SELECT key, value FROM settings ORDER BY key",
            setting_put: concat!(
                "INSERT INTO settings (key, value, updated_at_ms) VALUES ($1, $2, ",
                $now,
                ") ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at_ms = excluded.updated_at_ms"
            ),
            setting_delete: "DELETE FROM settings WHERE key = $1",
            tokens_all: "SELECT name, role, sha256, created_at_ms, created_by, last_used_ms \
                 FROM api_tokens ORDER BY name",
            token_create: concat!(
                "INSERT INTO api_tokens (name, role, sha256, created_at_ms, created_by) \
                 VALUES ($1, $2, $3, ",
                $now,
                ", $4) ON CONFLICT (name) DO NOTHING \
                 RETURNING name, role, sha256, created_at_ms, created_by, last_used_ms"
            ),
            token_delete: "DELETE FROM api_tokens WHERE name = $1",
            token_touch: concat!(
                "UPDATE api_tokens SET last_used_ms = ",
                $now,
                " WHERE name = $1"
            ),

            acquire_lease: concat!(
                "INSERT INTO leases (name, holder, epoch, expires_at_ms) \
                 SELECT $1, $2, 1, t.ms + $3 FROM (SELECT ",
                $now,
                " AS ms) t WHERE true \
                 ON CONFLICT (name) DO UPDATE SET \
                 epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch \
                     ELSE leases.epoch + 1 END, \
                 holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
                 WHERE leases.holder = excluded.holder \
                 OR leases.expires_at_ms < excluded.expires_at_ms - $4 \
                 RETURNING epoch"
            ),
            holds_lease: concat!(
                "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 \
                 AND expires_at_ms >= ",
                $now
            ),
            lease_holder: concat!(
                "SELECT holder FROM leases WHERE name = $1 AND expires_at_ms >= ",
                $now
            ),
            release_lease: "DELETE FROM leases WHERE name = $1 AND holder = $2",

            alert_insert: concat!(
                "INSERT INTO alert_outbox (dedup_key, event, job_key, job_name, target, host, \
                 body, state, created_at_ms, next_at_ms) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, 'pending', t.ms, t.ms FROM (SELECT ",
                $now,
                " AS ms) t WHERE true ON CONFLICT (dedup_key) DO NOTHING"
            ),
            alert_heads: concat!(
                "SELECT a.id FROM alert_outbox a WHERE a.state = 'pending' AND a.next_at_ms <= (",
                $now,
                ") AND (a.lease_until_ms IS NULL OR a.lease_until_ms < (",
                $now,
                ") OR a.holder NOT IN (",
                live_ids!($now, $session, "$1"),
                ")) AND NOT EXISTS (SELECT 1 FROM alert_outbox b WHERE b.state = 'pending' \
                 AND b.job_key = a.job_key AND b.target = a.target AND b.id < a.id) \
                 ORDER BY a.id LIMIT $2"
            ),
            alert_claim: concat!(
                "UPDATE alert_outbox SET holder = $1, claim = claim + 1, lease_until_ms = (",
                $now,
                ") + $2 WHERE id = $3 AND state = 'pending' AND next_at_ms <= (",
                $now,
                ") AND (lease_until_ms IS NULL OR lease_until_ms < (",
                $now,
                ") OR holder NOT IN (",
                live_ids!($now, $session, "$4"),
                "))"
            ),
            alert_claimed: "SELECT id, claim, event, target, body, attempts, created_at_ms \
                 FROM alert_outbox WHERE id = $1 AND holder = $2",
            alert_delivered: concat!(
                "UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, \
                 last_error = NULL, lease_until_ms = NULL, done_at_ms = (",
                $now,
                ") WHERE id = $1 AND claim = $2 AND state = 'pending'"
            ),
            alert_retry: concat!(
                "UPDATE alert_outbox SET attempts = attempts + 1, last_error = $1, \
                 lease_until_ms = NULL, next_at_ms = (",
                $now,
                ") + $2 WHERE id = $3 AND claim = $4 AND state = 'pending'"
            ),
            alert_give_up: concat!(
                "UPDATE alert_outbox SET state = 'given_up', attempts = attempts + 1, \
                 last_error = $1, lease_until_ms = NULL, done_at_ms = (",
                $now,
                ") WHERE id = $2 AND claim = $3 AND state = 'pending'"
            ),
            alerts_recent: "SELECT id, event, job_key, job_name, host, state, attempts, \
                 last_error, created_at_ms, next_at_ms, done_at_ms FROM alert_outbox \
                 ORDER BY id DESC LIMIT $1",
            prune_alerts: "DELETE FROM alert_outbox WHERE state <> 'pending' AND done_at_ms < $1",

            audit_insert: concat!(
                "INSERT INTO audit_log (at_ms, actor, action, job_id, target, before_json, \
                 after_json) VALUES (",
                $now,
                ", $1, $2, $3, $4, $5, $6)"
            ),
            prune_audit: "DELETE FROM audit_log WHERE at_ms < $1",

            state_get: "SELECT value FROM job_state WHERE job_id = $1 AND key = $2",
            state_set: concat!(
                "INSERT INTO job_state (job_id, key, value, updated_at_ms) SELECT j.id, $1, $2, ",
                $now,
                " FROM jobs j WHERE j.id = $3 AND j.owner = $4 AND j.epoch = $5",
                $lock,
                " ON CONFLICT (job_id, key) DO UPDATE SET value = excluded.value, \
                 updated_at_ms = excluded.updated_at_ms"
            ),
            state_keys: "SELECT key FROM job_state WHERE job_id = $1 ORDER BY key",
        }
    };
}
