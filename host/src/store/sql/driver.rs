//! Every [`SqlEngine`] is a [`Driver`]: each operation is the engine's method of the same
//! name (its own, or the shared default).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::SqlEngine;
use crate::store::driver::{
    Driver, FinishRow, JobEdit, ListenerDriver, Op, OwnershipRow, SessionDriver, StateWrite,
};
use crate::store::events::{PendingTrigger, StoredEvent};
use crate::store::model::{
    BeginRun, Finished, Instance, Job, JobFilter, JobPage, NewJob, NewRun, Run, RunFilter, RunPage,
    RunReason, RunStatus,
};
use crate::store::open::ConnectOptions;
use crate::store::tokens::StoredToken;

/// Connects engine `E` at `url`, as the driver the store talks to: what an engine's entry in
/// `engines.rs` opens with.
pub(crate) fn open<'a, E: SqlEngine>(
    url: &'a str,
    options: &'a ConnectOptions,
) -> BoxFuture<'a, Result<Arc<dyn Driver>, sqlx::Error>> {
    Box::pin(async move { Ok(Arc::new(E::connect(url, options).await?) as Arc<dyn Driver>) })
}

impl<E: SqlEngine> Driver for E {
    fn known_schema_version(&self) -> i64 {
        SqlEngine::known_schema_version(self)
    }
    fn migrate(&self) -> Op<'_, ()> {
        SqlEngine::migrate(self)
    }
    fn applied_schema_version(&self) -> Op<'_, Option<i64>> {
        SqlEngine::applied_schema_version(self)
    }
    fn now_ms(&self) -> Op<'_, i64> {
        SqlEngine::now_ms(self)
    }
    fn ping(&self) -> Op<'_, ()> {
        SqlEngine::ping(self)
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        SqlEngine::close(self)
    }
    fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job> {
        SqlEngine::create_job(self, id, new)
    }
    fn get_job<'a>(&'a self, id_or_name: &'a str) -> Op<'a, Option<Job>> {
        SqlEngine::get_job(self, id_or_name)
    }
    fn get_job_by_id<'a>(&'a self, id: &'a str) -> Op<'a, Option<Job>> {
        SqlEngine::get_job_by_id(self, id)
    }
    fn list_jobs<'a>(&'a self, filter: &'a JobFilter, page: &'a JobPage) -> Op<'a, Vec<Job>> {
        SqlEngine::list_jobs(self, filter, page)
    }
    fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>> {
        SqlEngine::update_job(self, edit)
    }
    fn delete_job<'a>(&'a self, id: &'a str) -> Op<'a, bool> {
        SqlEngine::delete_job(self, id)
    }
    fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun> {
        SqlEngine::begin_run(self, run)
    }
    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        SqlEngine::begin_runs(self, runs)
    }
    fn finish_run<'a>(&'a self, finish: &'a FinishRow) -> Op<'a, Finished> {
        SqlEngine::finish_run(self, finish)
    }
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        SqlEngine::finish_runs(self, finishes)
    }
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        SqlEngine::record_ticks(self, job_id, instance, epoch, ticks)
    }
    fn abandon_runs<'a>(&'a self, job_id: &'a str, epoch: i64) -> Op<'a, u64> {
        SqlEngine::abandon_runs(self, job_id, epoch)
    }
    fn get_run(&self, run_id: i64) -> Op<'_, Option<Run>> {
        SqlEngine::get_run(self, run_id)
    }
    fn list_runs<'a>(&'a self, filter: &'a RunFilter, page: &'a RunPage) -> Op<'a, Vec<Run>> {
        SqlEngine::list_runs(self, filter, page)
    }
    fn last_tick_ms<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        SqlEngine::last_tick_ms(self, job_id)
    }
    fn tick_recorded<'a>(&'a self, job_id: &'a str, scheduled_at_ms: i64) -> Op<'a, bool> {
        SqlEngine::tick_recorded(self, job_id, scheduled_at_ms)
    }
    fn running_count<'a>(&'a self, job_id: &'a str) -> Op<'a, i64> {
        SqlEngine::running_count(self, job_id)
    }
    fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Op<'_, u64> {
        SqlEngine::delete_runs_batch(self, cutoff_ms, batch)
    }
    fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Op<'_, u64> {
        SqlEngine::prune_events(self, cutoff_ms, keep)
    }
    fn expire_triggers(&self, cutoff_ms: i64) -> Op<'_, u64> {
        SqlEngine::expire_triggers(self, cutoff_ms)
    }
    fn delete_stale_instances(&self, stale_after_ms: i64) -> Op<'_, u64> {
        SqlEngine::delete_stale_instances(self, stale_after_ms)
    }
    fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64> {
        SqlEngine::heartbeat(self, id, address, version)
    }
    fn leave<'a>(&'a self, id: &'a str) -> Op<'a, ()> {
        SqlEngine::leave(self, id)
    }
    fn live_instances(&self, dead_after_ms: i64) -> Op<'_, Vec<Instance>> {
        SqlEngine::live_instances(self, dead_after_ms)
    }
    fn all_instances(&self) -> Op<'_, Vec<Instance>> {
        SqlEngine::all_instances(self)
    }
    fn orphan_summary(&self, dead_after_ms: i64) -> Op<'_, Vec<(Option<String>, i64)>> {
        SqlEngine::orphan_summary(self, dead_after_ms)
    }
    fn claim_jobs<'a>(
        &'a self,
        instance: &'a str,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<Job>> {
        SqlEngine::claim_jobs(self, instance, dead_after_ms, limit)
    }
    fn ownership(&self, dead_after_ms: i64) -> Op<'_, Vec<OwnershipRow>> {
        SqlEngine::ownership(self, dead_after_ms)
    }
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>> {
        SqlEngine::hand_over(self, from, to, jobs)
    }
    fn release_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, u64> {
        SqlEngine::release_jobs(self, instance)
    }
    fn release_job<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64) -> Op<'a, bool> {
        SqlEngine::release_job(self, job_id, instance, epoch)
    }
    fn list_owned_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<Job>> {
        SqlEngine::list_owned_jobs(self, instance)
    }
    fn owned_job_versions<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<(String, i64, i64)>> {
        SqlEngine::owned_job_versions(self, instance)
    }
    fn owned_job_counts(&self) -> Op<'_, Vec<(String, i64)>> {
        SqlEngine::owned_job_counts(self)
    }
    fn abandon_taken_runs<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, u64> {
        SqlEngine::abandon_taken_runs(self, instance, ids)
    }
    fn owned_among<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<Job>> {
        SqlEngine::owned_among(self, instance, ids)
    }
    fn newest_ticks<'a>(
        &'a self,
        instance: &'a str,
        ids: &'a [String],
        lookback_ms: i64,
    ) -> Op<'a, Vec<(String, i64, i64)>> {
        SqlEngine::newest_ticks(self, instance, ids, lookback_ms)
    }
    fn ticks_after<'a>(&'a self, from_ms: i64, ids: &'a [&'a str]) -> Op<'a, Vec<(String, i64)>> {
        SqlEngine::ticks_after(self, from_ms, ids)
    }
    fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64> {
        SqlEngine::append_event(self, kind, payload)
    }
    fn events_after(&self, after: i64, limit: i64) -> Op<'_, Vec<StoredEvent>> {
        SqlEngine::events_after(self, after, limit)
    }
    fn last_event_id(&self) -> Op<'_, Option<i64>> {
        SqlEngine::last_event_id(self)
    }
    fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        SqlEngine::insert_trigger(self, job_id)
    }
    fn owned_triggers<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingTrigger>> {
        SqlEngine::owned_triggers(self, instance)
    }
    fn delete_trigger(&self, id: i64) -> Op<'_, ()> {
        SqlEngine::delete_trigger(self, id)
    }
    fn settings_all(&self) -> Op<'_, Vec<(String, String)>> {
        SqlEngine::settings_all(self)
    }
    fn setting_put<'a>(&'a self, key: &'a str, value: &'a str) -> Op<'a, ()> {
        SqlEngine::setting_put(self, key, value)
    }
    fn setting_delete<'a>(&'a self, key: &'a str) -> Op<'a, bool> {
        SqlEngine::setting_delete(self, key)
    }
    fn tokens_all(&self) -> Op<'_, Vec<StoredToken>> {
        SqlEngine::tokens_all(self)
    }
    fn token_create<'a>(
        &'a self,
        name: &'a str,
        role: &'a str,
        sha256: &'a str,
        created_by: Option<&'a str>,
    ) -> Op<'a, Option<StoredToken>> {
        SqlEngine::token_create(self, name, role, sha256, created_by)
    }
    fn token_delete<'a>(&'a self, name: &'a str) -> Op<'a, bool> {
        SqlEngine::token_delete(self, name)
    }
    fn token_touch<'a>(&'a self, name: &'a str) -> Op<'a, ()> {
        SqlEngine::token_touch(self, name)
    }
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: i64,
    ) -> Op<'a, Option<i64>> {
        SqlEngine::acquire_lease(self, name, holder, ttl_ms)
    }
    fn holds_lease<'a>(&'a self, name: &'a str, holder: &'a str, epoch: i64) -> Op<'a, bool> {
        SqlEngine::holds_lease(self, name, holder, epoch)
    }
    fn lease_holder<'a>(&'a self, name: &'a str) -> Op<'a, Option<String>> {
        SqlEngine::lease_holder(self, name)
    }
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> Op<'a, ()> {
        SqlEngine::release_lease(self, name, holder)
    }
    fn state_get<'a>(&'a self, job_id: &'a str, key: &'a str) -> Op<'a, Option<Vec<u8>>> {
        SqlEngine::state_get(self, job_id, key)
    }
    fn state_set<'a>(&'a self, write: StateWrite<'a>) -> Op<'a, bool> {
        SqlEngine::state_set(self, write)
    }
    fn state_keys<'a>(&'a self, job_id: &'a str) -> Op<'a, Vec<String>> {
        SqlEngine::state_keys(self, job_id)
    }
    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        SqlEngine::open_session(self)
    }
    fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        SqlEngine::listen(self, channels)
    }
    fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()> {
        SqlEngine::notify(self, channel, payload)
    }
}
