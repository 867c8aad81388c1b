//! The owner's side of planned retries: the attempts planned in the database for the jobs
//! this replica owns that no run here waits for — their planner crashed, shut down, or handed
//! the job over — are offered to the scheduler, which runs each at its due time
//! ([`Command::Retry`]). A plan stays in the database until its attempt starts, so one that
//! cannot be taken up yet is offered again.

use std::time::Duration;

use super::command::{Command, SchedulerHandle};
use super::retry::RetryBook;
use crate::store::Store;

/// How often the owner looks for planned attempts nobody here waits for.
pub const RETRY_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Offer the planned attempts of the jobs `instance_id` owns that `book` does not hold to
/// `scheduler`, until `stop`.
pub async fn feed_retries(
    store: Store,
    instance_id: String,
    scheduler: SchedulerHandle,
    book: RetryBook,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(RETRY_POLL_INTERVAL) => {}
        }
        let planned = match store.owned_retries(&instance_id).await {
            Ok(planned) => planned,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read planned retries");
                continue;
            }
        };
        for retry in planned {
            if book.holds(&retry.job_id, retry.scheduled_at_ms) {
                continue;
            }
            scheduler.send(Command::Retry {
                job_id: retry.job_id,
                tick_ms: retry.scheduled_at_ms,
                attempt: retry.attempt,
                catch_up: retry.catch_up,
                manual: retry.manual,
            });
        }
    }
}
