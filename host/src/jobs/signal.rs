//! Wake-ups inside one replica for changes made through it or heard of from its peers: jobs
//! written (the membership loop reconciles: only the jobs named when it knows which, every job
//! otherwise) and manual triggers accepted for jobs it owns (the scheduler's trigger feeder
//! looks at once instead of at its next poll).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Past this many jobs named since the last look, the loop reconciles every job instead.
pub const MAX_NAMED_CHANGES: usize = 256;

/// Where a job was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Through this replica (it claims a new job itself).
    Here,
    /// Through another replica (heard of through a change notification).
    Elsewhere,
}

/// What changed since the loop last looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// Anything may have changed (a batch, a peer joining, a lost notification).
    All,
    /// Only these jobs, with where each was written (none: the wake-up was for changes
    /// already seen).
    Jobs(BTreeMap<String, Origin>),
}

#[derive(Debug, Default)]
struct Pending {
    all: bool,
    jobs: BTreeMap<String, Origin>,
}

/// The wake-ups of one replica. Cheap to clone; clones share them.
#[derive(Clone, Debug, Default)]
pub struct ChangeSignal {
    jobs: Arc<Notify>,
    pending: Arc<Mutex<Pending>>,
    triggers: Arc<Notify>,
}

impl ChangeSignal {
    /// Anything this replica owns or should own may have changed: reconcile every job.
    pub fn jobs_changed(&self) {
        self.pending.lock().expect("pending changes").all = true;
        self.jobs.notify_one();
    }

    /// Job `id` was written (created, edited, paused, resumed, deleted) through this replica:
    /// reconcile it.
    pub fn job_changed(&self, id: &str) {
        self.note(id, Origin::Here);
    }

    /// Job `id` was written through another replica: reconcile it.
    pub fn job_changed_elsewhere(&self, id: &str) {
        self.note(id, Origin::Elsewhere);
    }

    fn note(&self, id: &str, origin: Origin) {
        {
            let mut pending = self.pending.lock().expect("pending changes");
            if pending.jobs.len() >= MAX_NAMED_CHANGES {
                pending.all = true;
            } else if !pending.all {
                let seen = pending.jobs.entry(id.to_owned()).or_insert(origin);
                *seen = (*seen).min(origin);
            }
        }
        self.jobs.notify_one();
    }

    /// Resolves at the next change (or at once for one that came while nobody waited); then
    /// [`ChangeSignal::take_changes`] says what changed.
    pub async fn jobs_change(&self) {
        self.jobs.notified().await
    }

    /// What changed since the last call, forgotten here.
    pub fn take_changes(&self) -> Changes {
        let pending = std::mem::take(&mut *self.pending.lock().expect("pending changes"));
        if pending.all {
            Changes::All
        } else {
            Changes::Jobs(pending.jobs)
        }
    }

    /// A manual trigger of a job owned here was accepted.
    pub fn trigger_added(&self) {
        self.triggers.notify_one();
    }

    /// Resolves at the next [`ChangeSignal::trigger_added`].
    pub async fn trigger(&self) {
        self.triggers.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_changes_are_collected_until_taken() {
        let signal = ChangeSignal::default();
        signal.job_changed("a");
        signal.job_changed_elsewhere("b");
        signal.job_changed_elsewhere("a");
        assert_eq!(
            signal.take_changes(),
            Changes::Jobs(
                [
                    ("a".to_string(), Origin::Here),
                    ("b".to_string(), Origin::Elsewhere)
                ]
                .into()
            )
        );
        assert_eq!(signal.take_changes(), Changes::Jobs(BTreeMap::new()));
    }

    #[test]
    fn an_unnamed_change_or_too_many_named_mean_every_job() {
        let signal = ChangeSignal::default();
        signal.job_changed("a");
        signal.jobs_changed();
        signal.job_changed("b");
        assert_eq!(signal.take_changes(), Changes::All);
        for i in 0..=MAX_NAMED_CHANGES {
            signal.job_changed(&format!("job-{i}"));
        }
        assert_eq!(signal.take_changes(), Changes::All);
    }

    #[tokio::test]
    async fn a_change_made_while_nobody_waits_wakes_the_next_wait() {
        let signal = ChangeSignal::default();
        signal.job_changed("a");
        tokio::time::timeout(std::time::Duration::from_secs(5), signal.jobs_change())
            .await
            .expect("woken");
    }
}
