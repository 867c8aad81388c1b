//! [`SqlEngine`]: what an engine gives the shared executors, and the operations it may run
//! its own way.

use std::future::Future;

use futures::future::BoxFuture;
use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Pool, Transaction};

use super::db::{Held, On, SqlDb};
use super::{
    Catalogue, alerts, audit, events, jobs, leases, liveness, overview, ownership, retention,
    retries, run_queries, runs, schema, settings, state, takeover,
};
use crate::store::alerts::{AlertDelivery, AlertOutcome, ClaimedAlert, NewAlert};
use crate::store::audit::{AuditEntry, AuditFilter, AuditPage, NewAudit};
use crate::store::driver::{
    FinishRow, JobEdit, ListenerDriver, Op, OwnershipRow, SessionDriver, StateWrite,
};
use crate::store::events::{EVENTS_CHANNEL, PendingTrigger, StoredEvent};
use crate::store::failure::{PendingRetry, RetryWait};
use crate::store::model::{
    BeginRun, Finished, Instance, Job, JobFilter, JobPage, NewJob, NewRun, Run, RunFilter, RunPage,
    RunReason, RunStatus,
};
use crate::store::open::ConnectOptions;
use crate::store::overview::Overview;
use crate::store::tokens::StoredToken;

/// One SQL engine: its sqlx database, its pool, its statements, and one method per store
/// operation. Every type implementing it is a [`Driver`](crate::store::driver::Driver) (see
/// `driver.rs` beside this file).
///
/// Each operation method is the [`Driver`](crate::store::driver::Driver) operation of the
/// same name. Its default runs the shared executor on [`SqlEngine::SQL`]; an engine
/// overrides the ones it runs differently: a bulk statement instead of a transaction of
/// single ones, a statement of another shape (no `RETURNING`: insert, then read back), a
/// capability it has.
pub(crate) trait SqlEngine: std::fmt::Debug + Send + Sync + Sized + 'static {
    /// The sqlx database.
    type Db: SqlDb;
    /// The schema migrations this binary embeds for the engine.
    const MIGRATIONS: &'static Migrator;
    /// The statements the shared executors run, in this engine's SQL.
    const SQL: Catalogue;

    /// Connects to the database at `url`.
    fn connect(
        url: &str,
        options: &ConnectOptions,
    ) -> impl Future<Output = sqlx::Result<Self>> + Send;
    /// The connection pool.
    fn pool(&self) -> &Pool<Self::Db>;
    /// The statement that starts a transaction around every single statement, when each
    /// needs one (PostgreSQL behind a transaction-mode pooler: only inside a transaction do
    /// a statement's parse, bind and execute stay on one server session); `None` (the
    /// default): single statements run on a pooled connection as they are.
    fn statement_begin(&self) -> Option<&str> {
        None
    }
    /// Where a single statement runs: see [`SqlEngine::statement_begin`].
    fn on(&self) -> On<'_, Self::Db> {
        match self.statement_begin() {
            Some(begin) => On::Tx(self.pool(), begin),
            None => On::Pool(self.pool()),
        }
    }
    /// `conn` held for several statements, unnamed when [`SqlEngine::statement_begin`] says
    /// every statement needs a transaction.
    fn held<'c>(
        &self,
        conn: &'c mut <Self::Db as sqlx::Database>::Connection,
    ) -> Held<'c, Self::Db> {
        Held {
            conn,
            unnamed: self.statement_begin().is_some(),
        }
    }
    /// A write transaction: [`Catalogue::begin_write`], or [`SqlEngine::statement_begin`]
    /// when the engine has one.
    fn begin_write(&self) -> BoxFuture<'_, sqlx::Result<Transaction<'static, Self::Db>>> {
        let begin = self.statement_begin().unwrap_or(Self::SQL.begin_write);
        Box::pin(self.pool().begin_with(AssertSqlSafe(begin.to_owned())))
    }
    /// Applies [`SqlEngine::MIGRATIONS`], without a statement time limit.
    fn migrate(&self) -> Op<'_, ()>;

    // ----- schema and clock ------------------------------------------------------------------

    fn known_schema_version(&self) -> i64 {
        let versions = Self::MIGRATIONS.iter().map(|m| m.version);
        versions.max().unwrap_or(0)
    }
    fn applied_schema_version(&self) -> Op<'_, Option<i64>> {
        Box::pin(schema::applied_version(self))
    }
    fn now_ms(&self) -> Op<'_, i64> {
        Box::pin(schema::now_ms(self))
    }
    fn ping(&self) -> Op<'_, ()> {
        Box::pin(schema::ping(self))
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool().close())
    }

    // ----- jobs ------------------------------------------------------------------------------

    fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job> {
        Box::pin(jobs::create(self, id, new))
    }
    /// Default: multi-row inserts in one write transaction.
    fn create_jobs<'a>(&'a self, jobs: &'a [(String, NewJob)]) -> Op<'a, i64> {
        Box::pin(jobs::create_many(self, jobs))
    }
    /// Default: the edits' statements in one write transaction.
    fn update_jobs<'a>(&'a self, edits: &'a [JobEdit<'a>]) -> Op<'a, i64> {
        Box::pin(jobs::update_many(self, edits))
    }
    /// Default: `DELETE … WHERE id IN (…)` statements in one write transaction.
    fn delete_jobs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64> {
        Box::pin(jobs::delete_many(self, ids))
    }
    fn get_job<'a>(&'a self, id_or_name: &'a str) -> Op<'a, Option<Job>> {
        Box::pin(jobs::get(self, id_or_name))
    }
    fn get_job_by_id<'a>(&'a self, id: &'a str) -> Op<'a, Option<Job>> {
        Box::pin(jobs::get_by_id(self, id))
    }
    fn list_jobs<'a>(&'a self, filter: &'a JobFilter, page: &'a JobPage) -> Op<'a, Vec<Job>> {
        Box::pin(jobs::list(self, filter, page))
    }
    fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>> {
        Box::pin(jobs::update(self, edit))
    }
    fn delete_job<'a>(&'a self, id: &'a str) -> Op<'a, bool> {
        Box::pin(jobs::delete(self, id))
    }

    // ----- run lifecycle ---------------------------------------------------------------------

    fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun> {
        Box::pin(runs::begin(self, run))
    }
    /// Default: one write transaction of [`SqlEngine::begin_run`]'s statements.
    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        Box::pin(runs::begin_many(self, runs))
    }
    fn finish_run<'a>(&'a self, finish: &'a FinishRow) -> Op<'a, Finished> {
        Box::pin(runs::finish(self, finish))
    }
    /// Default: one write transaction of [`SqlEngine::finish_run`]'s statements.
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        Box::pin(runs::finish_many(self, finishes))
    }
    /// Default: one write transaction that checks ownership, then records tick by tick.
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        Box::pin(runs::record_ticks(self, job_id, instance, epoch, ticks))
    }
    fn abandon_runs<'a>(&'a self, job_id: &'a str, epoch: i64) -> Op<'a, u64> {
        Box::pin(runs::abandon(self, job_id, epoch))
    }

    // ----- retries ---------------------------------------------------------------------------

    fn finish_and_plan<'a>(&'a self, finish: &'a FinishRow, delay_ms: i64) -> Op<'a, Finished> {
        Box::pin(retries::finish_and_plan(self, finish, delay_ms))
    }
    fn begin_attempt<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun> {
        Box::pin(retries::begin_attempt(self, run))
    }
    fn retry_wait<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, RetryWait> {
        Box::pin(retries::wait(self, job_id, tick, attempt))
    }
    fn owned_retries<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingRetry>> {
        Box::pin(retries::owned(self, instance))
    }
    fn drop_retry<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, bool> {
        Box::pin(retries::drop_one(self, job_id, tick, attempt))
    }
    fn last_success<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(retries::last_success(self, job_id))
    }
    fn mark_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool> {
        Box::pin(retries::mark_stale(self, job_id))
    }
    fn clear_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool> {
        Box::pin(retries::clear_stale(self, job_id))
    }
    fn stale_jobs(&self) -> Op<'_, Vec<String>> {
        Box::pin(retries::stale_jobs(self))
    }

    // ----- run queries -----------------------------------------------------------------------

    fn get_run(&self, run_id: i64) -> Op<'_, Option<Run>> {
        Box::pin(run_queries::get(self, run_id))
    }
    fn list_runs<'a>(&'a self, filter: &'a RunFilter, page: &'a RunPage) -> Op<'a, Vec<Run>> {
        Box::pin(run_queries::list(self, filter, page))
    }
    fn last_tick_ms<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(run_queries::last_tick(self, job_id))
    }
    fn tick_recorded<'a>(&'a self, job_id: &'a str, scheduled_at_ms: i64) -> Op<'a, bool> {
        Box::pin(runs::tick_recorded::<Self>(
            self.on(),
            job_id,
            scheduled_at_ms,
        ))
    }
    fn running_count<'a>(&'a self, job_id: &'a str) -> Op<'a, i64> {
        Box::pin(run_queries::running_count(self, job_id))
    }

    // ----- retention -------------------------------------------------------------------------

    fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Op<'_, u64> {
        Box::pin(retention::delete_runs(self, cutoff_ms, batch))
    }
    fn delete_job_runs_over<'a>(
        &'a self,
        job_id: &'a str,
        statuses: &'a [RunStatus],
        keep: i64,
        lookback_ms: i64,
    ) -> Op<'a, u64> {
        Box::pin(retention::delete_job_runs_over(
            self,
            job_id,
            statuses,
            keep,
            lookback_ms,
        ))
    }
    fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Op<'_, u64> {
        Box::pin(retention::prune_events(self, cutoff_ms, keep))
    }
    fn expire_triggers(&self, cutoff_ms: i64) -> Op<'_, u64> {
        Box::pin(retention::expire_triggers(self, cutoff_ms))
    }
    fn delete_stale_instances(&self, stale_after_ms: i64) -> Op<'_, u64> {
        Box::pin(retention::delete_stale_instances(self, stale_after_ms))
    }

    // ----- liveness --------------------------------------------------------------------------

    fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64> {
        Box::pin(liveness::heartbeat(self, id, address, version))
    }
    fn leave<'a>(&'a self, id: &'a str) -> Op<'a, ()> {
        Box::pin(liveness::leave(self, id))
    }
    fn live_instances(&self, dead_after_ms: i64) -> Op<'_, Vec<Instance>> {
        Box::pin(liveness::live(self, dead_after_ms))
    }
    fn all_instances(&self) -> Op<'_, Vec<Instance>> {
        Box::pin(liveness::all(self))
    }
    fn orphan_summary(&self, dead_after_ms: i64) -> Op<'_, Vec<(Option<String>, i64)>> {
        Box::pin(liveness::orphans(self, dead_after_ms))
    }

    // ----- ownership -------------------------------------------------------------------------

    fn claim_jobs<'a>(
        &'a self,
        instance: &'a str,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<Job>> {
        Box::pin(ownership::claim(self, instance, dead_after_ms, limit))
    }
    fn ownership(&self, dead_after_ms: i64) -> Op<'_, Vec<OwnershipRow>> {
        Box::pin(ownership::ownership(self, dead_after_ms))
    }
    fn claim_unowned<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<String>> {
        Box::pin(ownership::claim_unowned(self, instance, ids))
    }
    /// Default: one write transaction moving job by job.
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>> {
        Box::pin(ownership::hand_over(self, from, to, jobs))
    }
    fn release_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, u64> {
        Box::pin(ownership::release_all(self, instance))
    }
    fn release_job<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64) -> Op<'a, bool> {
        Box::pin(ownership::release(self, job_id, instance, epoch))
    }
    fn list_owned_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<Job>> {
        Box::pin(ownership::owned(self, instance))
    }
    fn owned_job_versions<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<(String, i64, i64)>> {
        Box::pin(ownership::owned_versions(self, instance))
    }
    fn owned_job_counts(&self) -> Op<'_, Vec<(String, i64)>> {
        Box::pin(ownership::owned_counts(self))
    }

    // ----- takeover --------------------------------------------------------------------------

    fn abandon_taken_runs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64> {
        Box::pin(takeover::abandon(self, ids))
    }
    fn owned_among<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<Job>> {
        Box::pin(takeover::owned_among(self, instance, ids))
    }
    fn newest_ticks<'a>(
        &'a self,
        ids: &'a [String],
        lookback_ms: i64,
    ) -> Op<'a, Vec<(String, i64, i64)>> {
        Box::pin(takeover::newest_ticks(self, ids, lookback_ms))
    }
    fn ticks_after<'a>(&'a self, from_ms: i64, ids: &'a [&'a str]) -> Op<'a, Vec<(String, i64)>> {
        Box::pin(takeover::ticks_after(self, from_ms, ids))
    }

    // ----- events and manual triggers --------------------------------------------------------

    fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64> {
        Box::pin(events::append(self, kind, payload))
    }
    /// Default: multi-row inserts in one write transaction, then the engine's `notify`.
    fn append_events<'a>(&'a self, events: &'a [(&'a str, String)]) -> Op<'a, ()> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            events::append_many(self, events).await?;
            self.notify(EVENTS_CHANNEL, "").await
        })
    }
    fn events_after(&self, after: i64, limit: i64) -> Op<'_, Vec<StoredEvent>> {
        Box::pin(events::after(self, after, limit))
    }
    fn last_event_id(&self) -> Op<'_, Option<i64>> {
        Box::pin(events::last_id(self))
    }
    fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(events::trigger(self, job_id))
    }
    fn owned_triggers<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingTrigger>> {
        Box::pin(events::owned_triggers(self, instance))
    }
    fn delete_trigger(&self, id: i64) -> Op<'_, ()> {
        Box::pin(events::delete_trigger(self, id))
    }

    // ----- settings and API tokens -----------------------------------------------------------

    fn settings_all(&self) -> Op<'_, Vec<(String, String)>> {
        Box::pin(settings::all(self))
    }
    fn setting_put<'a>(&'a self, key: &'a str, value: &'a str) -> Op<'a, ()> {
        Box::pin(settings::put(self, key, value))
    }
    fn setting_delete<'a>(&'a self, key: &'a str) -> Op<'a, bool> {
        Box::pin(settings::delete(self, key))
    }
    fn tokens_all(&self) -> Op<'_, Vec<StoredToken>> {
        Box::pin(settings::tokens(self))
    }
    fn token_create<'a>(
        &'a self,
        name: &'a str,
        role: &'a str,
        sha256: &'a str,
        created_by: Option<&'a str>,
    ) -> Op<'a, Option<StoredToken>> {
        Box::pin(settings::create_token(self, name, role, sha256, created_by))
    }
    fn token_delete<'a>(&'a self, name: &'a str) -> Op<'a, bool> {
        Box::pin(settings::delete_token(self, name))
    }
    fn token_touch<'a>(&'a self, name: &'a str) -> Op<'a, ()> {
        Box::pin(settings::touch_token(self, name))
    }

    // ----- leases ----------------------------------------------------------------------------

    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: i64,
    ) -> Op<'a, Option<i64>> {
        Box::pin(leases::acquire(self, name, holder, ttl_ms))
    }
    fn holds_lease<'a>(&'a self, name: &'a str, holder: &'a str, epoch: i64) -> Op<'a, bool> {
        Box::pin(leases::holds(self, name, holder, epoch))
    }
    fn lease_holder<'a>(&'a self, name: &'a str) -> Op<'a, Option<String>> {
        Box::pin(leases::holder(self, name))
    }
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> Op<'a, ()> {
        Box::pin(leases::release(self, name, holder))
    }

    // ----- alert outbox ----------------------------------------------------------------------

    fn enqueue_alert<'a>(&'a self, alert: &'a NewAlert) -> Op<'a, bool> {
        Box::pin(alerts::enqueue(self, alert))
    }
    fn claim_alerts<'a>(
        &'a self,
        holder: &'a str,
        lease_ms: i64,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<ClaimedAlert>> {
        Box::pin(alerts::claim(self, holder, lease_ms, dead_after_ms, limit))
    }
    fn settle_alert<'a>(&'a self, id: i64, claim: i64, outcome: &'a AlertOutcome) -> Op<'a, bool> {
        Box::pin(alerts::settle(self, id, claim, outcome))
    }
    fn recent_alerts(&self, limit: i64) -> Op<'_, Vec<AlertDelivery>> {
        Box::pin(alerts::recent(self, limit))
    }
    fn prune_alerts(&self, cutoff_ms: i64) -> Op<'_, u64> {
        Box::pin(alerts::prune(self, cutoff_ms))
    }

    // ----- the on-call overview --------------------------------------------------------------

    fn overview(&self) -> Op<'_, Overview> {
        Box::pin(overview::read(self))
    }

    // ----- audit log -------------------------------------------------------------------------

    fn record_audit<'a>(&'a self, entry: &'a NewAudit) -> Op<'a, ()> {
        Box::pin(audit::record(self, entry))
    }
    /// Default: multi-row inserts in one write transaction.
    fn record_audits<'a>(&'a self, entries: &'a [NewAudit]) -> Op<'a, ()> {
        Box::pin(audit::record_many(self, entries))
    }
    fn list_audit<'a>(
        &'a self,
        filter: &'a AuditFilter,
        page: &'a AuditPage,
    ) -> Op<'a, Vec<AuditEntry>> {
        Box::pin(audit::list(self, filter, page))
    }
    fn prune_audit(&self, cutoff_ms: i64) -> Op<'_, u64> {
        Box::pin(audit::prune(self, cutoff_ms))
    }

    // ----- plugin state ----------------------------------------------------------------------

    fn state_get<'a>(&'a self, job_id: &'a str, key: &'a str) -> Op<'a, Option<Vec<u8>>> {
        Box::pin(state::get(self, job_id, key))
    }
    fn state_set<'a>(&'a self, write: StateWrite<'a>) -> Op<'a, bool> {
        Box::pin(state::set(self, write))
    }
    fn state_keys<'a>(&'a self, job_id: &'a str) -> Op<'a, Vec<String>> {
        Box::pin(state::keys(self, job_id))
    }

    // ----- capabilities ----------------------------------------------------------------------

    /// Default: no server sessions; the heartbeat alone decides liveness.
    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        Box::pin(async { Ok(None) })
    }
    /// Default: nobody to tell; replicas notice changes through their reconcile.
    fn listen<'a>(&'a self, _channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        Box::pin(async { Ok(None) })
    }
    /// Default: a no-op.
    fn notify<'a>(&'a self, _channel: &'a str, _payload: &'a str) -> Op<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}
