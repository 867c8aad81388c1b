//! The scheduler's command protocol: what the rest of the replica tells the loop (take, update,
//! drop or release a job, run a manual trigger, the maintenance switch, the database is back),
//! and the handle that sends it.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::jobs::JobSpec;

/// Messages to the scheduler loop.
#[derive(Debug)]
pub enum Command {
    /// Hold (or re-take under a new epoch) a job; `last_accounted_ms` is the newest tick the
    /// database already has for it, or the tick before a hole below it, and then `recorded`
    /// holds the ticks after it that are recorded already.
    Take {
        spec: Arc<JobSpec>,
        last_accounted_ms: i64,
        recorded: BTreeSet<i64>,
    },
    /// Sent before [`Command::DatabaseBack`] for a held job stalled by a database outage: its
    /// ticks after the stall that were recorded anyway.
    Recorded {
        job_id: String,
        ticks: BTreeSet<i64>,
    },
    /// A held job was edited (same epoch).
    Update(Arc<JobSpec>),
    /// Stop holding a job (deleted, or owned by another replica now): its timer stops and its
    /// runs in flight are cancelled (they were fenced; the new owner records them abandoned).
    Drop(String),
    /// Stop scheduling a job to hand it to another replica: its timer stops at once, and the
    /// reply (the epoch it was held under, `None` if it was not held) comes once its runs in
    /// flight have finished, so the receiver's catch-up neither misses nor repeats a tick.
    Release {
        job_id: String,
        reply: oneshot::Sender<Option<i64>>,
    },
    /// Run a pending manual trigger of a held job now; while a run of the job is in progress
    /// (overlap policy other than `allow`), as soon as that run ends. It stays pending (and is
    /// offered again) while the maintenance switch is on or the job is not held here. A
    /// trigger offered while it waits or runs is ignored.
    Manual {
        job_id: String,
        tick_ms: i64,
        trigger_id: i64,
    },
    /// Run a planned attempt of a held job's tick, found in the database (the replica that
    /// planned it stopped waiting for it), at its due time. Ignored while the maintenance
    /// switch is on or the job is not held here (it is offered again).
    Retry {
        job_id: String,
        tick_ms: i64,
        attempt: i32,
        catch_up: bool,
        manual: bool,
    },
    /// The cluster-wide maintenance switch changed.
    ClusterPaused(bool),
    /// The database is reachable again: re-plan jobs whose ticks could not be recorded.
    DatabaseBack,
    /// Reply with `(job id, cursor)` of the jobs stalled by a database outage (sent before
    /// [`Command::DatabaseBack`], to learn which of their later ticks were recorded meanwhile).
    Stalled(oneshot::Sender<Vec<(String, i64)>>),
    /// Reply with the held jobs' (id, version, epoch).
    Versions(oneshot::Sender<Vec<(String, i64, i64)>>),
    /// Reply with the next tick of each held job.
    NextTicks(oneshot::Sender<Vec<(String, Option<i64>)>>),
}

/// Handle to a running scheduler loop.
#[derive(Clone, Debug)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl SchedulerHandle {
    /// The handle of the loop that receives on the other end of `tx`.
    pub(super) fn new(tx: mpsc::UnboundedSender<Command>) -> Self {
        Self { tx }
    }

    pub fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// `(job id, cursor)` of the jobs stalled by a database outage.
    pub async fn stalled(&self) -> Vec<(String, i64)> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stalled(tx));
        rx.await.unwrap_or_default()
    }

    /// (id, version, epoch) of every held job.
    pub async fn versions(&self) -> Vec<(String, i64, i64)> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Versions(tx));
        rx.await.unwrap_or_default()
    }

    /// Stop scheduling `job_id` and wait until its runs in flight have finished; the epoch it
    /// was held under, `None` if it was not held (see [`Command::Release`]).
    pub async fn release(&self, job_id: &str) -> Option<i64> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Release {
            job_id: job_id.to_owned(),
            reply: tx,
        });
        rx.await.ok().flatten()
    }

    /// The next scheduled tick of every held job.
    pub async fn next_ticks(&self) -> Vec<(String, Option<i64>)> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::NextTicks(tx));
        rx.await.unwrap_or_default()
    }
}
