//! [`Catalogue`]: the statements the shared executors run, one field per statement, each in
//! the SQL of one engine.
//!
//! Every statement uses each of its placeholders once, numbered in the order they appear in
//! the text, and the executors bind values in that order. So one bind chain serves engines
//! with numbered placeholders (`$1`) and engines with positional ones (`?`) alike; a value a
//! statement needs twice is bound twice (each field says so). A field's doc lists its
//! parameters in that order and what it returns.

/// The statements of one engine, as the shared executors use them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Catalogue {
    // ----- schema, clock, transactions -------------------------------------------------------
    /// Opens a transaction that writes (on SQLite it takes the write lock at once).
    pub begin_write: &'static str,
    /// The database clock in Unix epoch milliseconds.
    pub now: &'static str,
    /// One round trip.
    pub ping: &'static str,
    /// How many migration tables there are (0 or 1).
    pub schema_table: &'static str,
    /// The newest applied schema version.
    pub schema_version: &'static str,

    // ----- jobs ------------------------------------------------------------------------------
    /// (id, name, schedule, timezone, plugin, input, config, paused, overlap, misfire,
    /// catch-up window, jitter, timeout, memory limit, allowed hosts, failure) → the job's
    /// columns.
    pub insert_job: &'static str,
    /// (id or name, the same, the same) → the job's columns; the id wins over a name.
    pub job_by_id_or_name: &'static str,
    /// (id) → the job's columns.
    pub job_by_id: &'static str,
    /// The jobs' columns, of every job: the job list adds the filters it was given (each
    /// has its index, led by the filtered column and followed by the name) and its page.
    pub list_jobs: &'static str,
    /// (name, schedule, timezone, plugin, input, config, paused, overlap, misfire, catch-up
    /// window, jitter, timeout, memory limit, allowed hosts, failure, paused reason, move the
    /// anchor, id, read version) → the job's columns if it was at that version.
    pub update_job: &'static str,
    /// (id).
    pub delete_job: &'static str,

    // ----- run lifecycle ---------------------------------------------------------------------
    /// (tick, attempt, catch-up, manual, plugin digest, job, instance, epoch) → the new run's
    /// id, if the instance owns the job under the epoch and the tick has no run yet.
    pub begin_run: &'static str,
    /// (job, tick) → how many runs the tick has.
    pub tick_recorded: &'static str,
    /// (status, result, error, logs, run id, epoch): finishes the run if it is running under
    /// that epoch and the epoch is still the job's.
    pub finish_run: &'static str,
    /// (job, instance, epoch) → 1 if the instance owns the job under the epoch, else 0.
    pub owns_job: &'static str,
    /// (job, tick, status, reason, instance, epoch): records a tick that was not run, unless
    /// it has a run (ownership is checked by the caller, in the same transaction).
    pub record_tick: &'static str,
    /// (reason, error, job, epoch): fails the job's runs still running under a lower epoch.
    pub abandon_runs: &'static str,

    // ----- retries ---------------------------------------------------------------------------
    /// (delay, run id): plans the run's next attempt, due `delay` ms from now.
    pub plan_retry: &'static str,
    /// (job, tick, attempt) → the planned attempt's due instant minus now, if it is pending.
    pub retry_wait: &'static str,
    /// (job, tick, attempt): removes a planned attempt.
    pub consume_retry: &'static str,
    /// (job): share-locks the job's row (where the engine has row locks), first thing in a
    /// retry's start: the start takes the job's lock before the planned attempt's, as an edit
    /// (job row, then its planned attempts) does, so the two cannot deadlock.
    pub lock_job_row: &'static str,
    /// (job, tick, attempt) → the id of that attempt's run.
    pub attempt_id: &'static str,
    /// (instance) → `(job, tick, attempt, due, catch-up, manual)` of the planned attempts of
    /// the jobs it owns, the earliest due first.
    pub owned_retries: &'static str,
    /// (job): removes every planned attempt of the job, in the transaction of the edit (pause,
    /// schedule change) that makes them obsolete.
    pub drop_retries: &'static str,

    // ----- job health ------------------------------------------------------------------------
    /// (job) → when its newest succeeded run finished, or `NULL`.
    pub last_success: &'static str,
    /// (job): marks the job stale since now, unless it is marked already.
    pub mark_stale: &'static str,
    /// (job): removes the job's stale mark.
    pub clear_stale: &'static str,
    /// () → the ids of the jobs marked stale.
    pub stale_jobs: &'static str,

    // ----- run queries -----------------------------------------------------------------------
    /// (run id) → the run's columns.
    pub run_by_id: &'static str,
    /// (job) → the newest non-manual tick, or `NULL`.
    pub last_tick: &'static str,
    /// (job) → how many of its runs are running.
    pub running_count: &'static str,

    // ----- retention -------------------------------------------------------------------------
    /// (cutoff, batch): deletes finished runs, never a job's newest non-manual one.
    pub delete_runs: &'static str,
    /// (cutoff, keep): deletes old events and all but the newest `keep`.
    pub prune_events: &'static str,
    /// (cutoff): deletes manual triggers.
    pub expire_triggers: &'static str,
    /// (stale after): deletes silent instances that own no job.
    pub delete_stale_instances: &'static str,

    // ----- liveness --------------------------------------------------------------------------
    /// (id, address, version) → the heartbeat's time.
    pub heartbeat: &'static str,
    /// (id).
    pub leave: &'static str,
    /// (dead after) → the live instances' columns, by id.
    pub live_instances: &'static str,
    /// () → every instance's columns, by id.
    pub all_instances: &'static str,
    /// (dead after) → `(dead instance, jobs)` by id, then `(NULL, jobs without an owner)`.
    pub orphans: &'static str,

    // ----- ownership -------------------------------------------------------------------------
    /// (instance, instance, dead after, limit) → the claimed jobs' columns.
    pub claim_jobs: &'static str,
    /// (dead after) → `(owner, jobs, live as 1 or 0)`, the live instances first.
    pub ownership: &'static str,
    /// (instance, job): gives the job to the instance if it has no owner.
    pub claim_unowned: &'static str,
    /// (to, job, epoch, from): moves one job if `from` owns it under the epoch.
    pub hand_over: &'static str,
    /// (instance): releases every job it owns.
    pub release_jobs: &'static str,
    /// (job, instance, epoch): releases the job if the instance owns it under the epoch.
    pub release_job: &'static str,
    /// (instance) → its jobs' columns, by name.
    pub owned_jobs: &'static str,
    /// (instance) → `(id, version, epoch)` of its jobs, by id.
    pub owned_versions: &'static str,
    /// () → `(owner, jobs)`, by owner.
    pub owned_counts: &'static str,

    // ----- takeover (job ids bound as one JSON array) ----------------------------------------
    // No statement here names the owner: with `jobs.owner` in it, a planner whose statistics
    // rate the owner as rare (as right after a claim changed every owner) reads every job of
    // the owner and tests each against the list (PostgreSQL: past the 15 s statement limit
    // for 5,000 ids among 33,000 jobs, so the take failed and the replica stalled). The
    // owner is checked on the jobs read back, and only the jobs found owned go further.
    /// (reason, error, ids): fails the running runs under an older epoch than their job's of
    /// the jobs among `ids` (fenced whoever owns the job now).
    pub abandon_taken: &'static str,
    /// (ids) → the columns of the jobs among `ids`, by name.
    pub jobs_among: &'static str,
    /// (lookback, ids) → `(job, newest tick, ticks in the lookback)`.
    pub newest_ticks: &'static str,
    /// (from, ids) → `(job, tick)` of the non-manual ticks after `from`.
    pub ticks_after: &'static str,

    // ----- events and manual triggers --------------------------------------------------------
    /// (kind, payload) → the event's id.
    pub append_event: &'static str,
    /// (after, limit) → the events' columns, oldest first.
    pub events_after: &'static str,
    /// () → the newest event id, or `NULL`.
    pub last_event_id: &'static str,
    /// (job) → the trigger's tick, if the job exists.
    pub insert_trigger: &'static str,
    /// (after, limit) → the trigger columns of the pending triggers after that id, oldest
    /// first, whoever owns their jobs. No owner in the statement: a join driven by
    /// `jobs.owner` reads every job of the owner whenever the statistics rate the owner as
    /// rare, as they do right after the jobs were claimed (PostgreSQL: 115 ms a poll at
    /// 33,000 jobs, with no trigger pending).
    pub pending_triggers: &'static str,
    /// (trigger id).
    pub delete_trigger: &'static str,

    // ----- settings and API tokens -----------------------------------------------------------
    /// () → `(key, value)`, by key.
    pub settings_all: &'static str,
    /// (key, value).
    pub setting_put: &'static str,
    /// (key).
    pub setting_delete: &'static str,
    /// () → every token, by name.
    pub tokens_all: &'static str,
    /// (name, role, sha256, created by) → the token, unless the name is taken.
    pub token_create: &'static str,
    /// (name).
    pub token_delete: &'static str,
    /// (name).
    pub token_touch: &'static str,

    // ----- leases ----------------------------------------------------------------------------
    /// (name, holder, ttl, ttl) → the epoch, if the holder holds the lease now.
    pub acquire_lease: &'static str,
    /// (name, holder, epoch) → 1 if that holder holds the unexpired lease under the epoch.
    pub holds_lease: &'static str,
    /// (name) → the holder of the unexpired lease.
    pub lease_holder: &'static str,
    /// (name, holder).
    pub release_lease: &'static str,

    // ----- alert outbox ----------------------------------------------------------------------
    /// (dedup key, event, job key, job name, target, host, body): writes a pending alert due
    /// now, unless one with the key exists.
    pub alert_insert: &'static str,
    /// (dead after, limit) → the ids of the due pending deliveries that are free (no lease, an
    /// expired one, or one held by a replica that is no longer live) and the oldest pending of
    /// their job and webhook, oldest first.
    pub alert_heads: &'static str,
    /// (holder, lease, id, dead after): claims the delivery if it is still due, pending and
    /// free.
    pub alert_claim: &'static str,
    /// (id, holder) → `(id, claim, event, target, body, attempts, created)` of a claimed row.
    pub alert_claimed: &'static str,
    /// (id, claim): marks the delivery delivered.
    pub alert_delivered: &'static str,
    /// (error, delay, id, claim): records a failed attempt, due again after the delay.
    pub alert_retry: &'static str,
    /// (error, id, claim): records a failed attempt and gives the delivery up.
    pub alert_give_up: &'static str,
    /// (limit) → the newest deliveries' columns, newest first.
    pub alerts_recent: &'static str,
    /// (cutoff): deletes deliveries settled before it.
    pub prune_alerts: &'static str,

    // ----- audit log -------------------------------------------------------------------------
    /// (actor, action, job id, target, before, after): records a change at now.
    pub audit_insert: &'static str,
    /// (cutoff): deletes entries recorded before it.
    pub prune_audit: &'static str,

    // ----- plugin state ----------------------------------------------------------------------
    /// (job, key) → the value.
    pub state_get: &'static str,
    /// (key, value, job, instance, epoch): stores the value if the instance owns the job under
    /// the epoch.
    pub state_set: &'static str,
    /// (job) → the keys, sorted.
    pub state_keys: &'static str,
}
