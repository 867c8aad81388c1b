//! Every [`SqlEngine`] is a [`Driver`]: each operation is the engine's method of the same
//! name (its own, or the shared default).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::SqlEngine;
use crate::store::alerts::{AlertDelivery, AlertOutcome, ClaimedAlert, NewAlert};
use crate::store::audit::{AuditEntry, AuditFilter, AuditPage, NewAudit};
use crate::store::driver::{
    Driver, FinishRow, JobEdit, ListenerDriver, Op, OwnershipRow, SessionDriver, StateWrite,
};
use crate::store::events::{PendingTrigger, StoredEvent};
use crate::store::failure::{PendingRetry, RetryWait};
use crate::store::model::{
    BeginRun, Finished, Instance, Job, JobFilter, JobPage, NewJob, NewRun, Run, RunFilter, RunPage,
    RunReason, RunStatus,
};
use crate::store::open::ConnectOptions;
use crate::store::overview::Overview;
use crate::store::tokens::StoredToken;

/// Connects engine `E` at `url`, as the driver the store talks to: what an engine's entry in
/// `engines.rs` opens with.
pub(crate) fn open<'a, E: SqlEngine>(
    url: &'a str,
    options: &'a ConnectOptions,
) -> BoxFuture<'a, Result<Arc<dyn Driver>, sqlx::Error>> {
    Box::pin(async move { Ok(Arc::new(E::connect(url, options).await?) as Arc<dyn Driver>) })
}

/// Implements each listed operation as the [`SqlEngine`] method of the same name.
macro_rules! forward {
    ($(fn $op:ident $(<$($l:lifetime),*>)? (&$($sl:lifetime)? self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $op $(<$($l),*>)? (&$($sl)? self $(, $arg: $ty)*) -> $ret {
            SqlEngine::$op(self $(, $arg)*)
        })*
    };
}

impl<E: SqlEngine> Driver for E {
    forward! {
        fn known_schema_version(&self) -> i64;
        fn migrate(&self) -> Op<'_, ()>;
        fn applied_schema_version(&self) -> Op<'_, Option<i64>>;
        fn now_ms(&self) -> Op<'_, i64>;
        fn ping(&self) -> Op<'_, ()>;
        fn close(&self) -> BoxFuture<'_, ()>;
        fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job>;
        fn create_jobs<'a>(&'a self, jobs: &'a [(String, NewJob)]) -> Op<'a, i64>;
        fn get_job<'a>(&'a self, id_or_name: &'a str) -> Op<'a, Option<Job>>;
        fn get_job_by_id<'a>(&'a self, id: &'a str) -> Op<'a, Option<Job>>;
        fn list_jobs<'a>(&'a self, filter: &'a JobFilter, page: &'a JobPage) -> Op<'a, Vec<Job>>;
        fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>>;
        fn delete_job<'a>(&'a self, id: &'a str) -> Op<'a, bool>;
        fn update_jobs<'a>(&'a self, edits: &'a [JobEdit<'a>]) -> Op<'a, i64>;
        fn delete_jobs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64>;
        fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun>;
        fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>>;
        fn finish_run<'a>(&'a self, finish: &'a FinishRow) -> Op<'a, Finished>;
        fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>>;
        fn record_ticks<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64, ticks: &'a [(i64, RunStatus, RunReason)]) -> Op<'a, bool>;
        fn abandon_runs<'a>(&'a self, job_id: &'a str, epoch: i64) -> Op<'a, u64>;
        fn finish_and_plan<'a>(&'a self, finish: &'a FinishRow, delay_ms: i64) -> Op<'a, Finished>;
        fn begin_attempt<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun>;
        fn retry_wait<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, RetryWait>;
        fn owned_retries<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingRetry>>;
        fn drop_retry<'a>(&'a self, job_id: &'a str, tick: i64, attempt: i32) -> Op<'a, bool>;
        fn last_success<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
        fn mark_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool>;
        fn clear_stale<'a>(&'a self, job_id: &'a str) -> Op<'a, bool>;
        fn stale_jobs(&self) -> Op<'_, Vec<String>>;
        fn get_run(&self, run_id: i64) -> Op<'_, Option<Run>>;
        fn list_runs<'a>(&'a self, filter: &'a RunFilter, page: &'a RunPage) -> Op<'a, Vec<Run>>;
        fn last_tick_ms<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
        fn tick_recorded<'a>(&'a self, job_id: &'a str, scheduled_at_ms: i64) -> Op<'a, bool>;
        fn running_count<'a>(&'a self, job_id: &'a str) -> Op<'a, i64>;
        fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Op<'_, u64>;
        fn delete_job_runs_over<'a>(&'a self, job_id: &'a str, statuses: &'a [RunStatus], keep: i64, lookback_ms: i64) -> Op<'a, u64>;
        fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Op<'_, u64>;
        fn expire_triggers(&self, cutoff_ms: i64) -> Op<'_, u64>;
        fn delete_stale_instances(&self, stale_after_ms: i64) -> Op<'_, u64>;
        fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64>;
        fn leave<'a>(&'a self, id: &'a str) -> Op<'a, ()>;
        fn live_instances(&self, dead_after_ms: i64) -> Op<'_, Vec<Instance>>;
        fn all_instances(&self) -> Op<'_, Vec<Instance>>;
        fn orphan_summary(&self, dead_after_ms: i64) -> Op<'_, Vec<(Option<String>, i64)>>;
        fn claim_jobs<'a>(&'a self, instance: &'a str, dead_after_ms: i64, limit: i64) -> Op<'a, Vec<Job>>;
        fn ownership(&self, dead_after_ms: i64) -> Op<'_, Vec<OwnershipRow>>;
        fn claim_unowned<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<String>>;
        fn hand_over<'a>(&'a self, from: &'a str, to: &'a str, jobs: &'a [(String, i64)]) -> Op<'a, Vec<String>>;
        fn release_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, u64>;
        fn release_job<'a>(&'a self, job_id: &'a str, instance: &'a str, epoch: i64) -> Op<'a, bool>;
        fn list_owned_jobs<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<Job>>;
        fn owned_job_versions<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<(String, i64, i64)>>;
        fn owned_job_counts(&self) -> Op<'_, Vec<(String, i64)>>;
        fn abandon_taken_runs<'a>(&'a self, ids: &'a [String]) -> Op<'a, u64>;
        fn owned_among<'a>(&'a self, instance: &'a str, ids: &'a [String]) -> Op<'a, Vec<Job>>;
        fn newest_ticks<'a>(&'a self, ids: &'a [String], lookback_ms: i64) -> Op<'a, Vec<(String, i64, i64)>>;
        fn ticks_after<'a>(&'a self, from_ms: i64, ids: &'a [&'a str]) -> Op<'a, Vec<(String, i64)>>;
        fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64>;
        fn append_events<'a>(&'a self, events: &'a [(&'a str, String)]) -> Op<'a, ()>;
        fn events_after(&self, after: i64, limit: i64) -> Op<'_, Vec<StoredEvent>>;
        fn last_event_id(&self) -> Op<'_, Option<i64>>;
        fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>>;
        fn owned_triggers<'a>(&'a self, instance: &'a str) -> Op<'a, Vec<PendingTrigger>>;
        fn delete_trigger(&self, id: i64) -> Op<'_, ()>;
        fn settings_all(&self) -> Op<'_, Vec<(String, String)>>;
        fn setting_put<'a>(&'a self, key: &'a str, value: &'a str) -> Op<'a, ()>;
        fn setting_delete<'a>(&'a self, key: &'a str) -> Op<'a, bool>;
        fn tokens_all(&self) -> Op<'_, Vec<StoredToken>>;
        fn token_create<'a>(&'a self, name: &'a str, role: &'a str, sha256: &'a str, created_by: Option<&'a str>) -> Op<'a, Option<StoredToken>>;
        fn token_delete<'a>(&'a self, name: &'a str) -> Op<'a, bool>;
        fn token_touch<'a>(&'a self, name: &'a str) -> Op<'a, ()>;
        fn acquire_lease<'a>(&'a self, name: &'a str, holder: &'a str, ttl_ms: i64) -> Op<'a, Option<i64>>;
        fn holds_lease<'a>(&'a self, name: &'a str, holder: &'a str, epoch: i64) -> Op<'a, bool>;
        fn lease_holder<'a>(&'a self, name: &'a str) -> Op<'a, Option<String>>;
        fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> Op<'a, ()>;
        fn enqueue_alert<'a>(&'a self, alert: &'a NewAlert) -> Op<'a, bool>;
        fn claim_alerts<'a>(&'a self, holder: &'a str, lease_ms: i64, dead_after_ms: i64, limit: i64) -> Op<'a, Vec<ClaimedAlert>>;
        fn settle_alert<'a>(&'a self, id: i64, claim: i64, outcome: &'a AlertOutcome) -> Op<'a, bool>;
        fn recent_alerts(&self, limit: i64) -> Op<'_, Vec<AlertDelivery>>;
        fn prune_alerts(&self, cutoff_ms: i64) -> Op<'_, u64>;
        fn overview(&self) -> Op<'_, Overview>;
        fn record_audit<'a>(&'a self, entry: &'a NewAudit) -> Op<'a, ()>;
        fn record_audits<'a>(&'a self, entries: &'a [NewAudit]) -> Op<'a, ()>;
        fn list_audit<'a>(&'a self, filter: &'a AuditFilter, page: &'a AuditPage) -> Op<'a, Vec<AuditEntry>>;
        fn prune_audit(&self, cutoff_ms: i64) -> Op<'_, u64>;
        fn state_get<'a>(&'a self, job_id: &'a str, key: &'a str) -> Op<'a, Option<Vec<u8>>>;
        fn state_set<'a>(&'a self, write: StateWrite<'a>) -> Op<'a, bool>;
        fn state_keys<'a>(&'a self, job_id: &'a str) -> Op<'a, Vec<String>>;
        fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>>;
        fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>>;
        fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()>;
    }
}
