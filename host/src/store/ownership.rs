//! Job ownership: claiming jobs without a live owner, handing them over, releasing them, and
//! the snapshot of who owns how many that a replica balances from. Each job has at most one
//! owner; every change of owner bumps the job's `epoch`, which fences whatever the previous
//! owner still tries to write.

use super::Store;
use super::error::StoreError;
use super::model::Job;

/// Live instances and how many jobs each owns, plus the jobs no live instance owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    /// `(instance id, jobs it owns)` for every live instance, by id.
    pub live: Vec<(String, i64)>,
    /// Jobs without a live owner (no owner, or a dead or departed one).
    pub orphans: i64,
}

impl Ownership {
    /// Every job, owned or not.
    pub fn total(&self) -> i64 {
        self.orphans + self.live.iter().map(|(_, n)| n).sum::<i64>()
    }

    /// Jobs `instance` owns (0 when it is not live).
    pub fn count(&self, instance: &str) -> i64 {
        self.live
            .iter()
            .find(|(id, _)| id == instance)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// Whether `instance` is live.
    pub fn is_live(&self, instance: &str) -> bool {
        self.live.iter().any(|(id, _)| id == instance)
    }
}

impl Store {
    /// Atomically takes ownership, for `instance`, of every job that has no owner or whose
    /// owner is not live (see [`super::instances`]). Each claimed job's epoch is bumped; the
    /// claimed jobs are returned by name.
    pub async fn claim_jobs(
        &self,
        instance: &str,
        dead_after_ms: i64,
    ) -> Result<Vec<Job>, StoreError> {
        self.claim_jobs_limited(instance, dead_after_ms, None).await
    }

    /// [`Store::claim_jobs`] taking at most `limit` jobs (in name order), for replicas that
    /// claim only their fair share. Where the engine has row locks, jobs locked by a
    /// concurrent claim are skipped, not waited for.
    pub async fn claim_jobs_limited(
        &self,
        instance: &str,
        dead_after_ms: i64,
        limit: Option<i64>,
    ) -> Result<Vec<Job>, StoreError> {
        let limit = limit.unwrap_or(i64::MAX).max(0);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut jobs = self
            .bounded(self.driver.claim_jobs(instance, dead_after_ms, limit))
            .await?;
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(jobs)
    }

    /// Gives `instance` the jobs among `ids` that have no owner at all (jobs just created; a
    /// dead owner's are left to [`Store::claim_jobs`]), epoch bumped; returns the ids claimed.
    pub async fn claim_unowned(
        &self,
        instance: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(self.driver.claim_unowned(instance, ids)).await
    }

    /// The live instances with their job counts, and how many jobs have no live owner: what a
    /// replica balances from.
    pub async fn ownership(&self, dead_after_ms: i64) -> Result<Ownership, StoreError> {
        let rows = self.bounded(self.driver.ownership(dead_after_ms)).await?;
        let mut view = Ownership::default();
        for (id, n, live) in rows {
            match id {
                Some(id) if live => view.live.push((id, n)),
                _ => view.orphans += n,
            }
        }
        view.live.sort();
        Ok(view)
    }

    /// Hands jobs `(id, epoch)` from `from` to `to` (owner set, epoch bumped), each only if
    /// `from` still owns it under that epoch; returns the ids handed over. The caller has
    /// stopped scheduling them and let their runs finish, so the receiver's catch-up runs any
    /// tick that came due meanwhile and none twice.
    pub async fn hand_over(
        &self,
        from: &str,
        to: &str,
        jobs: &[(String, i64)],
    ) -> Result<Vec<String>, StoreError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(self.driver.hand_over(from, to, jobs)).await
    }

    /// Gives up every job `instance` owns (owner cleared, epoch bumped), for a graceful
    /// shutdown; returns how many.
    pub async fn release_jobs(&self, instance: &str) -> Result<u64, StoreError> {
        self.bounded(self.driver.release_jobs(instance)).await
    }

    /// Gives up one job if `instance` still owns it under `epoch` (owner cleared, epoch
    /// bumped), so another replica can take it; false when it was not owned so.
    pub async fn release_job(
        &self,
        job_id: &str,
        instance: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        self.bounded(self.driver.release_job(job_id, instance, epoch))
            .await
    }

    /// Every job `instance` owns, by name.
    pub async fn list_owned_jobs(&self, instance: &str) -> Result<Vec<Job>, StoreError> {
        self.bounded(self.driver.list_owned_jobs(instance)).await
    }

    /// `(id, version, epoch)` of every job `instance` owns, by id: a cheap way to notice edits
    /// and ownership changes before reloading whole jobs.
    pub async fn owned_job_versions(
        &self,
        instance: &str,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        self.bounded(self.driver.owned_job_versions(instance)).await
    }

    /// `(instance id, number of jobs it owns)` for every instance that owns at least one job,
    /// by instance id.
    pub async fn owned_job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.bounded(self.driver.owned_job_counts()).await
    }
}
