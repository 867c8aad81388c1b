//! [`Driver`] for SQLite: each operation is a function of this module's siblings.

use futures::future::BoxFuture;

use super::SqliteDriver;
use super::{
    events, jobs, leases, liveness, open, ownership, retention, run_queries, runs, settings, state,
    takeover,
};
use crate::store::driver::{
    Driver, FinishRow, JobEdit, ListenerDriver, Op, OwnershipRow, SessionDriver, StateWrite,
};
use crate::store::events::{PendingTrigger, StoredEvent};
use crate::store::model::{
    BeginRun, Finished, Instance, Job, JobFilter, JobPage, NewJob, NewRun, Run, RunFilter, RunPage,
    RunReason, RunStatus,
};
use crate::store::tokens::StoredToken;

impl Driver for SqliteDriver {
    fn known_schema_version(&self) -> i64 {
        open::known_schema_version()
    }
    fn applied_schema_version(&self) -> Op<'_, Option<i64>> {
        Box::pin(open::applied_schema_version(&self.pool))
    }
    fn migrate(&self) -> Op<'_, ()> {
        Box::pin(open::migrate(&self.pool))
    }
    fn now_ms(&self) -> Op<'_, i64> {
        Box::pin(open::now_ms(&self.pool))
    }
    fn ping(&self) -> Op<'_, ()> {
        Box::pin(open::ping(&self.pool))
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }

    fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job> {
        Box::pin(jobs::create(&self.pool, id, new))
    }
    fn get_job<'a>(&'a self, id_or_name: &'a str) -> Op<'a, Option<Job>> {
        Box::pin(jobs::get(&self.pool, id_or_name))
    }
    fn get_job_by_id<'a>(&'a self, id: &'a str) -> Op<'a, Option<Job>> {
        Box::pin(jobs::get_by_id(&self.pool, id))
    }
    fn list_jobs<'a>(&'a self, filter: &'a JobFilter, page: &'a JobPage) -> Op<'a, Vec<Job>> {
        Box::pin(jobs::list(&self.pool, filter, page))
    }
    fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>> {
        Box::pin(jobs::update(&self.pool, edit))
    }
    fn delete_job<'a>(&'a self, id: &'a str) -> Op<'a, bool> {
        Box::pin(jobs::delete(&self.pool, id))
    }

    fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun> {
        Box::pin(runs::begin(&self.pool, run))
    }
    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        Box::pin(runs::begin_many(&self.pool, runs))
    }
    fn finish_run<'a>(&'a self, finish: &'a FinishRow) -> Op<'a, Finished> {
        Box::pin(runs::finish(&self.pool, finish))
    }
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        Box::pin(runs::finish_many(&self.pool, finishes))
    }
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        Box::pin(runs::record_ticks(
            &self.pool, job_id, instance, epoch, ticks,
        ))
    }
    fn abandon_runs<'a>(&'a self, job_id: &'a str, epoch: i64) -> Op<'a, u64> {
        Box::pin(runs::abandon(&self.pool, job_id, epoch))
    }

    fn get_run(&self, run_id: i64) -> Op<'_, Option<Run>> {
        Box::pin(run_queries::get(&self.pool, run_id))
    }
    fn list_runs<'a>(&'a self, filter: &'a RunFilter, page: &'a RunPage) -> Op<'a, Vec<Run>> {
        Box::pin(run_queries::list(&self.pool, filter, page))
    }
    fn last_tick_ms<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(run_queries::last_tick(&self.pool, job_id))
    }
    fn tick_recorded<'a>(&'a self, job_id: &'a str, scheduled_at_ms: i64) -> Op<'a, bool> {
        Box::pin(run_queries::tick_recorded(
            &self.pool,
            job_id,
            scheduled_at_ms,
        ))
    }
    fn running_count<'a>(&'a self, job_id: &'a str) -> Op<'a, i64> {
        Box::pin(run_queries::running_count(&self.pool, job_id))
    }

    fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Op<'_, u64> {
        Box::pin(retention::delete_runs(&self.pool, cutoff_ms, batch))
    }
    fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Op<'_, u64> {
        Box::pin(retention::prune_events(&self.pool, cutoff_ms, keep))
    }
    fn expire_triggers(&self, cutoff_ms: i64) -> Op<'_, u64> {
        Box::pin(retention::expire_triggers(&self.pool, cutoff_ms))
    }
    fn delete_stale_instances(&self, stale_after_ms: i64) -> Op<'_, u64> {
        Box::pin(retention::delete_stale_instances(
            &self.pool,
            stale_after_ms,
        ))
    }

    fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64> {
        Box::pin(liveness::heartbeat(&self.pool, id, address, version))
    }
    fn leave<'a>(&'a self, id: &'a str) -> Op<'a, ()> {
        Box::pin(liveness::leave(&self.pool, id))
    }
    fn live_instances(&self, dead_after_ms: i64) -> Op<'_, Vec<Instance>> {
        Box::pin(liveness::live(&self.pool, dead_after_ms))
    }
    fn all_instances(&self) -> Op<'_, Vec<Instance>> {
        Box::pin(liveness::all(&self.pool))
    }
    fn orphan_summary(&self, dead_after_ms: i64) -> Op<'_, Vec<(Option<String>, i64)>> {
        Box::pin(liveness::orphans(&self.pool, dead_after_ms))
    }

    fn claim_jobs<'a>(
        &'a self,
        instance: &'a str,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<Job>> {
        Box::pin(ownership::claim(&self.pool, instance, dead_after_ms, limit))
    }
    fn ownership(&self, dead_after_ms: i64) -> Op<'_, Vec<OwnershipRow>> {
        Box::pin(ownership::ownership(&self.pool, dead_after_ms))
    }
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>> {
        Box::pin(ownership::hand_over(&self.pool, from, to, jobs))
    }
    fn release_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, u64> {
        Box::pin(ownership::release_all(&self.pool, instance))
    }
    fn release_job<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64) -> Op<'a, bool> {
        Box::pin(ownership::release(&self.pool, job_id, instance, epoch))
    }
    fn list_owned_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<Job>> {
        Box::pin(ownership::owned(&self.pool, instance))
    }
    fn owned_job_versions<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<(String, i64, i64)>> {
        Box::pin(ownership::owned_versions(&self.pool, instance))
    }
    fn owned_job_counts(&self) -> Op<'_, Vec<(String, i64)>> {
        Box::pin(ownership::owned_counts(&self.pool))
    }

    fn abandon_taken_runs<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, u64> {
        Box::pin(takeover::abandon(&self.pool, instance, ids))
    }
    fn owned_among<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<Job>> {
        Box::pin(takeover::owned_among(&self.pool, instance, ids))
    }
    fn newest_ticks<'a>(
        &'a self,
        instance: &'a str,
        ids: &'a [String],
        lookback_ms: i64,
    ) -> Op<'a, Vec<(String, i64, i64)>> {
        Box::pin(takeover::newest_ticks(
            &self.pool,
            instance,
            ids,
            lookback_ms,
        ))
    }
    fn ticks_after<'a>(&'a self, from_ms: i64, ids: &'a [&'a str]) -> Op<'a, Vec<(String, i64)>> {
        Box::pin(takeover::ticks_after(&self.pool, from_ms, ids))
    }

    fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64> {
        Box::pin(events::append(&self.pool, kind, payload))
    }
    fn events_after(&self, after: i64, limit: i64) -> Op<'_, Vec<StoredEvent>> {
        Box::pin(events::after(&self.pool, after, limit))
    }
    fn last_event_id(&self) -> Op<'_, Option<i64>> {
        Box::pin(events::last_id(&self.pool))
    }
    fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(events::trigger(&self.pool, job_id))
    }
    fn owned_triggers<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingTrigger>> {
        Box::pin(events::owned_triggers(&self.pool, instance))
    }
    fn delete_trigger(&self, id: i64) -> Op<'_, ()> {
        Box::pin(events::delete_trigger(&self.pool, id))
    }

    fn settings_all(&self) -> Op<'_, Vec<(String, String)>> {
        Box::pin(settings::all(&self.pool))
    }
    fn setting_put<'a>(&'a self, key: &'a str, value: &'a str) -> Op<'a, ()> {
        Box::pin(settings::put(&self.pool, key, value))
    }
    fn setting_delete<'a>(&'a self, key: &'a str) -> Op<'a, bool> {
        Box::pin(settings::delete(&self.pool, key))
    }
    fn tokens_all(&self) -> Op<'_, Vec<StoredToken>> {
        Box::pin(settings::tokens(&self.pool))
    }
    fn token_create<'a>(
        &'a self,
        name: &'a str,
        role: &'a str,
        sha256: &'a str,
        created_by: Option<&'a str>,
    ) -> Op<'a, Option<StoredToken>> {
        Box::pin(settings::create_token(
            &self.pool, name, role, sha256, created_by,
        ))
    }
    fn token_delete<'a>(&'a self, name: &'a str) -> Op<'a, bool> {
        Box::pin(settings::delete_token(&self.pool, name))
    }
    fn token_touch<'a>(&'a self, name: &'a str) -> Op<'a, ()> {
        Box::pin(settings::touch_token(&self.pool, name))
    }

    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: i64,
    ) -> Op<'a, Option<i64>> {
        Box::pin(leases::acquire(&self.pool, name, holder, ttl_ms))
    }
    fn holds_lease<'a>(&'a self, name: &'a str, holder: &'a str, epoch: i64) -> Op<'a, bool> {
        Box::pin(leases::holds(&self.pool, name, holder, epoch))
    }
    fn lease_holder<'a>(&'a self, name: &'a str) -> Op<'a, Option<String>> {
        Box::pin(leases::holder(&self.pool, name))
    }
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> Op<'a, ()> {
        Box::pin(leases::release(&self.pool, name, holder))
    }

    fn state_get<'a>(&'a self, job_id: &'a str, key: &'a str) -> Op<'a, Option<Vec<u8>>> {
        Box::pin(state::get(&self.pool, job_id, key))
    }
    fn state_set<'a>(&'a self, write: StateWrite<'a>) -> Op<'a, bool> {
        Box::pin(state::set(&self.pool, write))
    }
    fn state_keys<'a>(&'a self, job_id: &'a str) -> Op<'a, Vec<String>> {
        Box::pin(state::keys(&self.pool, job_id))
    }

    /// No server sessions: the heartbeat alone decides liveness.
    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        Box::pin(async { Ok(None) })
    }
    /// One process, nobody to tell: replicas notice changes through their reconcile.
    fn listen<'a>(&'a self, _channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        Box::pin(async { Ok(None) })
    }
    fn notify<'a>(&'a self, _channel: &'a str, _payload: &'a str) -> Op<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}
