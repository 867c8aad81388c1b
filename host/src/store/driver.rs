//! The seam between the [`Store`](super::Store) facade and a database engine.
//!
//! A [`Driver`] is one engine's implementation of every store operation: it holds the engine's
//! connection pool and runs the engine's SQL. The SQL engines implement it through
//! `sql::SqlEngine` (every `SqlEngine` is a `Driver`), whose defaults are the executors they
//! share; a driver that is not SQL at all could implement it directly. The facade owns what does not depend on the
//! engine (the per-call time limit, input checks, retries, assembling answers) and calls the
//! driver through an `Arc<dyn Driver>`, so no operation ever looks at which engine it runs on.
//!
//! A trait object rather than an enum of drivers: with an enum every facade method would have
//! to match on the engine (or hide the match in a macro), which is what this seam removes; with
//! the trait, the only place that knows the engines is the list in `engines.rs`. The price is
//! one boxed future per call, nothing next to a database round trip.
//!
//! Operations take and return only plain Rust values and model types, never an engine's
//! types, SQL placeholders or row shapes, so an engine with other SQL (`?` placeholders, no
//! `RETURNING`, `INSERT … ON DUPLICATE KEY UPDATE`) implements the same signatures. Each
//! operation's contract is the facade method of the same name; the ones that write on behalf
//! of a job's owner must check ownership *in the same statement or transaction* that writes
//! (see the rules in [`super`]).
//!
//! Two capabilities only some engines have are optional:
//! - [`Driver::open_session`]: a dedicated connection whose end tells peers at once that the
//!   replica crashed (PostgreSQL: a session-level advisory lock; on MySQL it would be
//!   `GET_LOCK(name, 0)`, checked by peers with `IS_USED_LOCK(name)`). `None` where the
//!   engine has no server sessions: the heartbeat alone decides liveness.
//! - [`Driver::listen`] / [`Driver::notify`]: change notifications between replicas
//!   (PostgreSQL: `LISTEN`/`NOTIFY`; an engine without them may poll a changes table inside
//!   [`ListenerDriver::next`]). `None` and a no-op where nobody else can be told: replicas
//!   then notice changes through their periodic reconcile.

use futures::future::BoxFuture;

use super::alerts::{AlertDelivery, AlertOutcome, ClaimedAlert, NewAlert};
use super::audit::{AuditEntry, AuditFilter, AuditPage, NewAudit};
use super::error::StoreError;
use super::events::{PendingTrigger, StoredEvent};
use super::failure::{PendingRetry, RetryWait};
use super::model::{
    BeginRun, Finished, Instance, Job, JobFilter, JobPage, NewJob, NewRun, Run, RunFilter, RunPage,
    RunReason, RunStatus,
};
use super::overview::Overview;
use super::tokens::StoredToken;

/// Error text of a run whose owner lost the job before it finished.
pub(crate) const ABANDONED_ERROR: &str =
    "the replica running it lost ownership of the job before it finished";

/// What every driver operation returns: a boxed future of its answer.
pub(crate) type Op<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// A run's end, checked and with its text already cut to the limits (see
/// [`Store::finish_run`](super::Store::finish_run)).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FinishRow {
    /// Run id.
    pub run_id: i64,
    /// Epoch the run was started under.
    pub epoch: i64,
    /// Final status.
    pub status: RunStatus,
    /// Bounded result text.
    pub result: Option<String>,
    /// Bounded error text.
    pub error: Option<String>,
    /// Bounded logs.
    pub logs: Option<String>,
}

/// A job's user fields after an edit, to be written if the job is still at the version read.
#[derive(Debug, Clone)]
pub(crate) struct JobEdit<'a> {
    /// The job with the edit applied (id, and the new values of the user fields).
    pub job: &'a Job,
    /// Move the anchor to now (schedule, time zone changed, or resumed).
    pub move_anchor: bool,
    /// The version the edit is based on.
    pub read_version: i64,
    /// Drop the job's planned retries in the same transaction (paused, schedule changed).
    pub drop_retries: bool,
}

/// A plugin-state write on behalf of a job's owner.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateWrite<'a> {
    /// Job id.
    pub job_id: &'a str,
    /// State key.
    pub key: &'a str,
    /// New value.
    pub value: &'a [u8],
    /// Instance that believes it owns the job.
    pub instance: &'a str,
    /// Epoch it holds.
    pub epoch: i64,
}

/// `(owner, jobs, live)` rows of [`Driver::ownership`]: every live instance with its job count
/// (`live`), then the owners without a live instance (`None`: no owner) with theirs.
pub(crate) type OwnershipRow = (Option<String>, i64, bool);

/// One engine: every store operation, plus the optional capabilities.
pub(crate) trait Driver: Send + Sync + std::fmt::Debug {
    // ----- schema and clock ------------------------------------------------------------------

    /// The newest schema version this binary embeds for the engine.
    fn known_schema_version(&self) -> i64;
    /// The newest schema version applied, `None` on a database never migrated.
    fn applied_schema_version(&self) -> Op<'_, Option<i64>>;
    /// Applies the embedded migrations, without a statement time limit.
    fn migrate(&self) -> Op<'_, ()>;
    /// The database clock in Unix epoch milliseconds: the only clock the store uses.
    fn now_ms(&self) -> Op<'_, i64>;
    /// One round trip.
    fn ping(&self) -> Op<'_, ()>;
    /// Closes every connection.
    fn close(&self) -> BoxFuture<'_, ()>;

    // ----- jobs ------------------------------------------------------------------------------

    /// Inserts a job with id `id`, version 1, epoch 0, no owner, anchored at now; a taken
    /// name is [`StoreError::DuplicateName`].
    fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job>;
    /// Inserts the jobs `(id, fields)` in one transaction, all anchored at one instant of
    /// the database clock (returned); any taken name refuses them all
    /// ([`StoreError::DuplicateName`]).
    fn create_jobs<'a>(&'a self, jobs: &'a [(String, NewJob)]) -> Op<'a, i64>;
    /// The job with this id, or else with this name.
    fn get_job<'a>(&'a self, id_or_name: &'a str) -> Op<'a, Option<Job>>;
    /// The job with exactly this id.
    fn get_job_by_id<'a>(&'a self, id: &'a str) -> Op<'a, Option<Job>>;
    /// Jobs matching `filter`, by name, one keyset page.
    fn list_jobs<'a>(&'a self, filter: &'a JobFilter, page: &'a JobPage) -> Op<'a, Vec<Job>>;
    /// Writes an edit (version bumped, `updated_at_ms` now) if the job is still at
    /// `edit.read_version`; `None` when it is not.
    fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>>;
    /// Deletes a job with its runs, state and triggers; false when there was none.
    fn delete_job<'a>(&'a self, id: &'a str) -> Op<'a, bool>;
    /// Writes every edit in one transaction, each only if its job is still at its
    /// `read_version`: all of them, or none ([`StoreError::VersionConflict`] for the first
    /// job that moved on). The database's instant read at the transaction's start.
    fn update_jobs<'a>(&'a self, edits: &'a [JobEdit<'a>]) -> Op<'a, i64>;
    /// Deletes the jobs with their runs, state and triggers, in one transaction; how many
    /// there were.
    fn delete_jobs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64>;

    // ----- run lifecycle (every write fenced by owner and epoch) ------------------------------

    /// Starts one tick: inserts its `running` row only if `run.instance_id` owns the job
    /// under `run.epoch`, at most once per `(job, tick)`.
    fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun>;
    /// [`Driver::begin_run`] for a non-empty batch in one statement or one transaction;
    /// answers in the order of `runs`.
    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>>;
    /// Finishes a run if it is still `running` and the job's epoch is still the run's.
    fn finish_run<'a>(&'a self, finish: &'a FinishRow) -> Op<'a, Finished>;
    /// [`Driver::finish_run`] for a non-empty batch in one statement or one transaction;
    /// answers in the order of `finishes`.
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>>;
    /// Records ticks that were not run (skipped or missed) if `instance` owns the job under
    /// `epoch`, leaving recorded ticks alone; false when fenced.
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool>;
    /// Fails (reason `abandoned`, error [`ABANDONED_ERROR`] unless it has one) the job's runs still `running` under an
    /// epoch below `epoch`; returns how many.
    fn abandon_runs<'a>(&'a self, job_id: &'a str, epoch: i64) -> Op<'a, u64>;

    // ----- retries (fenced like the run lifecycle) -------------------------------------------

    /// [`Driver::finish_run`], and when it finished the run, plans the run's next attempt due
    /// `delay_ms` from now, in the same transaction.
    fn finish_and_plan<'a>(&'a self, finish: &'a FinishRow, delay_ms: i64) -> Op<'a, Finished>;
    /// Starts a planned attempt (`run.attempt` ≥ 2): consumes the plan and inserts its
    /// `running` row if `run.instance_id` owns the job under `run.epoch`, in one transaction;
    /// [`BeginRun::AlreadyRecorded`] when no such attempt is planned (run, or dropped).
    fn begin_attempt<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun>;
    /// When a planned attempt is due.
    fn retry_wait<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, RetryWait>;
    /// Up to 1000 planned attempts of the jobs `instance` owns, the earliest due first.
    fn owned_retries<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingRetry>>;
    /// Removes one planned attempt; false when it was not planned.
    fn drop_retry<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, bool>;

    // ----- job health ------------------------------------------------------------------------

    /// When the job's newest succeeded run finished.
    fn last_success<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
    /// Marks an existing job stale since now; false when it was marked already (or is gone).
    fn mark_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool>;
    /// Removes a job's stale mark; false when it had none.
    fn clear_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool>;
    /// The ids of the jobs marked stale, sorted.
    fn stale_jobs(&self) -> Op<'_, Vec<String>>;

    // ----- run queries -----------------------------------------------------------------------

    /// One run by id.
    fn get_run(&self, run_id: i64) -> Op<'_, Option<Run>>;
    /// Runs matching `filter`, newest tick first (then highest id), one keyset page.
    fn list_runs<'a>(&'a self, filter: &'a RunFilter, page: &'a RunPage) -> Op<'a, Vec<Run>>;
    /// The newest recorded non-manual tick of a job.
    fn last_tick_ms<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
    /// Whether a tick has its row.
    fn tick_recorded<'a>(&'a self, job_id: &'a str, scheduled_at_ms: i64) -> Op<'a, bool>;
    /// How many runs of a job are `running`.
    fn running_count<'a>(&'a self, job_id: &'a str) -> Op<'a, i64>;

    // ----- retention -------------------------------------------------------------------------

    /// Deletes at most `batch` finished runs scheduled before `cutoff_ms`, keeping each job's
    /// newest non-manual run; returns how many.
    fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Op<'_, u64>;
    /// Deletes job `job_id`'s runs with a status of `statuses` beyond the newest `keep` of
    /// those, among its runs scheduled more than `lookback_ms` before its newest non-manual
    /// tick; returns how many.
    fn delete_job_runs_over<'a>(
        &'a self,
        job_id: &'a str,
        statuses: &'a [RunStatus],
        keep: i64,
        lookback_ms: i64,
    ) -> Op<'a, u64>;
    /// Deletes events older than `cutoff_ms` and all but the newest `keep`.
    fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Op<'_, u64>;
    /// Deletes manual triggers scheduled before `cutoff_ms`.
    fn expire_triggers(&self, cutoff_ms: i64) -> Op<'_, u64>;
    /// Deletes instances silent for `stale_after_ms` that own no job.
    fn delete_stale_instances(&self, stale_after_ms: i64) -> Op<'_, u64>;

    // ----- liveness --------------------------------------------------------------------------

    /// Upserts an instance's heartbeat (re-registering one that left); returns its time.
    fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64>;
    /// Marks an instance as left.
    fn leave<'a>(&'a self, id: &'a str) -> Op<'a, ()>;
    /// Live instances (heartbeat within `dead_after_ms`, not left, session not ended), by id.
    fn live_instances(&self, dead_after_ms: i64) -> Op<'_, Vec<Instance>>;
    /// Every instance, by id.
    fn all_instances(&self) -> Op<'_, Vec<Instance>>;
    /// `(dead instance, jobs it owns)` by id, then `(None, jobs without an owner)`.
    fn orphan_summary(&self, dead_after_ms: i64) -> Op<'_, Vec<(Option<String>, i64)>>;

    // ----- ownership -------------------------------------------------------------------------

    /// Takes up to `limit` jobs (by name) without a live owner for `instance`, bumping each
    /// epoch; jobs locked by a concurrent claim are skipped where the engine can tell.
    fn claim_jobs<'a>(
        &'a self,
        instance: &'a str,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<Job>>;
    /// Job counts of the live instances and of the owners that are not live.
    fn ownership(&self, dead_after_ms: i64) -> Op<'_, Vec<OwnershipRow>>;
    /// Gives `instance` the jobs among `ids` that have no owner at all (epoch bumped); returns
    /// the ids claimed.
    fn claim_unowned<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<String>>;
    /// Moves jobs `(id, epoch)` from `from` to `to` (epoch bumped), each only if `from` still
    /// owns it under that epoch; returns the ids moved.
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>>;
    /// Clears the owner of every job `instance` owns (epoch bumped); returns how many.
    fn release_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, u64>;
    /// Clears one job's owner if `instance` owns it under `epoch` (epoch bumped).
    fn release_job<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64) -> Op<'a, bool>;
    /// Every job `instance` owns, by name.
    fn list_owned_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<Job>>;
    /// `(id, version, epoch)` of every job `instance` owns, by id.
    fn owned_job_versions<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<(String, i64, i64)>>;
    /// `(owner, jobs)` for every instance owning a job, by owner.
    fn owned_job_counts(&self) -> Op<'_, Vec<(String, i64)>>;

    // ----- takeover --------------------------------------------------------------------------

    /// Fails (reason `abandoned`) the `running` runs, under an epoch below the job's, of the
    /// jobs among `ids` (whoever owns the job now, such a run is fenced); returns how many.
    fn abandon_taken_runs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64>;
    /// The jobs among `ids` that `instance` owns, by name.
    fn owned_among<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<Job>>;
    /// For the jobs among `ids`: `(job, newest non-manual tick, non-manual ticks recorded in
    /// (max(anchor, newest - lookback_ms), newest])`, for the jobs that have a tick.
    fn newest_ticks<'a>(
        &'a self,
        ids: &'a [String],
        lookback_ms: i64,
    ) -> Op<'a, Vec<(String, i64, i64)>>;
    /// `(job, tick)` of the non-manual ticks after `from_ms` of the jobs among `ids`.
    fn ticks_after<'a>(&'a self, from_ms: i64, ids: &'a [&'a str]) -> Op<'a, Vec<(String, i64)>>;

    // ----- events and manual triggers --------------------------------------------------------

    /// Appends an event (JSON text `payload`) at now; returns its id.
    fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64>;
    /// Appends `(kind, payload)` events in order, in one transaction at one instant of the
    /// database's clock (multi-row statements); their ids increase in that order. Then
    /// announces them on [`EVENTS_CHANNEL`](super::EVENTS_CHANNEL), as [`Self::notify`].
    fn append_events<'a>(&'a self, events: &'a [(&'a str, String)]) -> Op<'a, ()>;
    /// Up to `limit` events with an id above `after`, oldest first.
    fn events_after(&self, after: i64, limit: i64) -> Op<'_, Vec<StoredEvent>>;
    /// The newest event id, if any.
    fn last_event_id(&self) -> Op<'_, Option<i64>>;
    /// Records a manual trigger of an existing job at now (one per millisecond); returns the
    /// tick's instant, `None` when there is no such job.
    fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
    /// Up to 100 triggers of the jobs `instance` owns, oldest first.
    fn owned_triggers<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingTrigger>>;
    /// Removes a trigger.
    fn delete_trigger(&self, id: i64) -> Op<'_, ()>;

    // ----- settings and API tokens -----------------------------------------------------------

    /// Every setting as `(key, JSON text)`, by key.
    fn settings_all(&self) -> Op<'_, Vec<(String, String)>>;
    /// Inserts or replaces a setting (JSON text).
    fn setting_put<'a>(&'a self, key: &'a str, value: &'a str) -> Op<'a, ()>;
    /// Removes a setting; false when it was not set.
    fn setting_delete<'a>(&'a self, key: &'a str) -> Op<'a, bool>;
    /// Every token, by name.
    fn tokens_all(&self) -> Op<'_, Vec<StoredToken>>;
    /// Stores a token created now; `None` when the name is taken.
    fn token_create<'a>(
        &'a self,
        name: &'a str,
        role: &'a str,
        sha256: &'a str,
        created_by: Option<&'a str>,
    ) -> Op<'a, Option<StoredToken>>;
    /// Deletes a token; false when there was none.
    fn token_delete<'a>(&'a self, name: &'a str) -> Op<'a, bool>;
    /// Sets a token's `last_used_ms` to now.
    fn token_touch<'a>(&'a self, name: &'a str) -> Op<'a, ()>;

    // ----- leases ----------------------------------------------------------------------------

    /// Takes or renews a lease; its epoch when `holder` holds it now.
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: i64,
    ) -> Op<'a, Option<i64>>;
    /// Whether `holder` holds the unexpired lease under `epoch`.
    fn holds_lease<'a>(&'a self, name: &'a str, holder: &'a str, epoch: i64) -> Op<'a, bool>;
    /// The holder of the unexpired lease.
    fn lease_holder<'a>(&'a self, name: &'a str) -> Op<'a, Option<String>>;
    /// Deletes the lease if `holder` holds it.
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> Op<'a, ()>;

    // ----- alert outbox ----------------------------------------------------------------------

    /// Writes an alert unless one with its key exists; true when written.
    fn enqueue_alert<'a>(&'a self, alert: &'a NewAlert) -> Op<'a, bool>;
    /// Claims up to `limit` due deliveries, the oldest pending of each job and webhook,
    /// whose lease is free (or held by a replica not live within `dead_after_ms`), for
    /// `holder` for `lease_ms`.
    fn claim_alerts<'a>(
        &'a self,
        holder: &'a str,
        lease_ms: i64,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<ClaimedAlert>>;
    /// Records a claimed delivery's outcome if `claim` is still the row's and it is pending.
    fn settle_alert<'a>(&'a self, id: i64, claim: i64, outcome: &'a AlertOutcome) -> Op<'a, bool>;
    /// The newest `limit` deliveries, newest first.
    fn recent_alerts(&self, limit: i64) -> Op<'_, Vec<AlertDelivery>>;
    /// Deletes deliveries settled before `cutoff_ms`.
    fn prune_alerts(&self, cutoff_ms: i64) -> Op<'_, u64>;

    // ----- the on-call overview --------------------------------------------------------------

    /// The on-call overview, relative to one reading of the database clock.
    fn overview(&self) -> Op<'_, Overview>;

    // ----- audit log -------------------------------------------------------------------------

    /// Records a change, at the database's now.
    fn record_audit<'a>(&'a self, entry: &'a NewAudit) -> Op<'a, ()>;
    /// Records changes, in order, at the database's now, in one transaction.
    fn record_audits<'a>(&'a self, entries: &'a [NewAudit]) -> Op<'a, ()>;
    /// Entries matching `filter`, newest first, one keyset page.
    fn list_audit<'a>(
        &'a self,
        filter: &'a AuditFilter,
        page: &'a AuditPage,
    ) -> Op<'a, Vec<AuditEntry>>;
    /// Deletes entries recorded before `cutoff_ms`.
    fn prune_audit(&self, cutoff_ms: i64) -> Op<'_, u64>;

    // ----- plugin state ----------------------------------------------------------------------

    /// The value under `key` of a job's state.
    fn state_get<'a>(&'a self, job_id: &'a str, key: &'a str) -> Op<'a, Option<Vec<u8>>>;
    /// Stores a value if `instance` owns the job under `epoch`; false when fenced.
    fn state_set<'a>(&'a self, write: StateWrite<'a>) -> Op<'a, bool>;
    /// Every key of a job's state, sorted.
    fn state_keys<'a>(&'a self, job_id: &'a str) -> Op<'a, Vec<String>>;

    // ----- capabilities ----------------------------------------------------------------------

    /// A dedicated connection for the replica's session, outside the pool; `None` when the
    /// engine has no session that ends with its client.
    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>>;
    /// Subscribes to `channels`; `None` when the engine cannot tell other replicas anything.
    fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>>;
    /// Announces `payload` on `channel` to every listener; a no-op without listeners.
    fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()>;
}

/// A replica's session: one connection held open for the replica's life. While the process
/// lives, the connection holds a lock named after the replica; peers read from the database
/// whether the recorded connection still holds it.
pub(crate) trait SessionDriver: Send {
    /// The connection's id as peers can look it up (a backend pid, a connection id).
    fn id(&self) -> i64;
    /// Tries, without waiting, to take the lock of `instance`; true when this connection
    /// holds it (now or already).
    fn try_lock<'a>(&'a mut self, instance: &'a str) -> Op<'a, bool>;
    /// The heartbeat upsert of [`Driver::heartbeat`] through this connection, also recording
    /// `session` (this connection's id when it holds the lock, else `None`) and when that
    /// recorded session last changed.
    fn heartbeat<'a>(
        &'a mut self,
        instance: &'a str,
        address: &'a str,
        version: &'a str,
        session: Option<i64>,
    ) -> Op<'a, i64>;
    /// Ends the session (its lock goes with it).
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// A subscription to change notifications.
pub(crate) trait ListenerDriver: Send {
    /// The next notification as `(channel, payload)`, waiting as long as it takes; `None` when
    /// notifications may have been missed (the subscription was re-established).
    fn next(&mut self) -> Op<'_, Option<(String, String)>>;
}
