//! Recording the ticks the scheduler decided not to run (missed, skipped), with their reasons,
//! the alert and the metrics.

use super::{Executor, RunEnd};
use crate::alerts::Alert;
use crate::jobs::JobSpec;
use crate::scheduler::core::NotRun;
use crate::store::{RunReason, RunStatus as StoredStatus};

impl Executor {
    /// Record ticks that are not run (missed, skipped). `None` when recorded. With
    /// `after_run` (the run a skipped tick overlapped), only once that run is recorded: a run
    /// whose record failed in a database outage never ran, and what was skipped for it is
    /// left unaccounted, to be re-planned with the job (the misfire policy decides).
    pub async fn record_not_run(
        &self,
        job: &JobSpec,
        ticks: &[(i64, NotRun)],
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
        after_run: Option<i64>,
    ) -> Option<RunEnd> {
        if let Some(run) = after_run {
            match self.store.tick_recorded(&job.id, run).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(job = %job.name, run, "the overlapped run was not recorded: the skipped ticks are re-planned");
                    return Some(RunEnd::RecordStalled);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot check the overlapped run; the skipped ticks wait for the database");
                    return Some(RunEnd::RecordStalled);
                }
            }
        }
        let rows: Vec<(i64, StoredStatus, RunReason)> = ticks
            .iter()
            .map(|(t, why)| (*t, why.status(), why.reason()))
            .collect();
        if unlisted_missed > 0 {
            let (from, to) = unlisted_range.unwrap_or_default();
            tracing::warn!(
                job = %job.name,
                unlisted_missed,
                from,
                to,
                "more missed ticks than are listed one by one; counted only"
            );
        }
        for (tick, why) in ticks {
            tracing::info!(job = %job.name, tick, reason = %why.reason(), status = %why.status(), "tick not run");
        }
        match self
            .store
            .record_ticks(&job.id, &self.instance_id, job.epoch, &rows)
            .await
        {
            Ok(true) => {
                let first = ticks.first().map(|(t, why)| (*t, why.status()));
                let first = first.or(unlisted_range.map(|(from, _)| (from, StoredStatus::Missed)));
                if let Some((first_ms, status)) = first {
                    let count = ticks.len() as u64 + unlisted_missed;
                    let job_ref = (job.id.as_str(), job.name.as_str());
                    self.events.alert(Alert::ticks_missed(
                        job_ref,
                        first_ms,
                        count,
                        status,
                        &self.instance_id,
                    ));
                }
                for (_, why) in ticks {
                    crate::metrics::global().ticks_not_run(
                        why.status().as_str(),
                        why.reason().as_str(),
                        1,
                    );
                }
                if unlisted_missed > 0 {
                    crate::metrics::global().ticks_not_run(
                        StoredStatus::Missed.as_str(),
                        RunReason::CatchupWindow.as_str(),
                        unlisted_missed,
                    );
                }
                None
            }
            Ok(false) => {
                crate::metrics::global().fenced("record");
                Some(RunEnd::Fenced)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot record missed/skipped ticks; they wait for the database");
                Some(RunEnd::RecordStalled)
            }
        }
    }
}
