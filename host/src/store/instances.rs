//! Replicas (instances) and job ownership.
//!
//! An instance is live while it heartbeats within `dead_after_ms` (measured by the database
//! clock) and has not left. On PostgreSQL it must also still hold its session: a replica
//! records the backend pid of a dedicated connection that holds a session-level advisory lock
//! ([`super::session`]); when that pid holds no advisory lock any more, the replica's process
//! is gone (crashed), which peers see at once instead of after the heartbeat threshold. A
//! session recorded before the server last started is ignored (the heartbeat decides), so a
//! database restart declares nobody dead. Each job has at most one owner; every change of owner
//! bumps the job's `epoch`, which fences whatever the previous owner still tries to write.

use super::Pool;
use super::Store;
use super::error::StoreError;
use super::model::{Instance, Job};
use super::ownership::Ownership;
use super::rows::{InstanceRow, JobRow, jobs_from_rows};
use super::sql::Sql;

/// Ids of the live instances (PostgreSQL): a subquery; `$p` is the dead threshold in ms.
macro_rules! pg_live_ids {
    ($p:literal) => {
        concat!(
            "SELECT i.id FROM instances i WHERE i.left_at_ms IS NULL AND i.heartbeat_at_ms >= ",
            postgres_now_ms!(),
            " - ",
            $p,
            " AND (i.session_pid IS NULL \
               OR i.session_since_ms < (extract(epoch from pg_postmaster_start_time()) * 1000)::bigint \
               OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
                 AND l.pid = i.session_pid \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))"
        )
    };
}

/// Ids of the live instances (SQLite: the heartbeat alone); `$p` is the dead threshold in ms.
macro_rules! sqlite_live_ids {
    ($p:literal) => {
        concat!(
            "SELECT i.id FROM instances i WHERE i.left_at_ms IS NULL AND i.heartbeat_at_ms >= ",
            sqlite_now_ms!(),
            " - ",
            $p
        )
    };
}

/// One statement that uses the live-instances subquery: `live_sql!("$2", "…", LIVE, "…")`.
macro_rules! live_sql {
    (@sqlite $p:literal LIVE) => { sqlite_live_ids!($p) };
    (@postgres $p:literal LIVE) => { pg_live_ids!($p) };
    (@sqlite $p:literal NOW) => { sqlite_now_ms!() };
    (@postgres $p:literal NOW) => { postgres_now_ms!() };
    (@$backend:ident $p:literal JOB_COLUMNS) => { job_columns!() };
    (@$backend:ident $p:literal INSTANCE_COLUMNS) => { instance_columns!() };
    (@sqlite $p:literal SKIP_LOCKED) => { "" };
    (@postgres $p:literal SKIP_LOCKED) => { " FOR UPDATE SKIP LOCKED " };
    (@$backend:ident $p:literal $literal:literal) => { $literal };
    ($p:literal, $($part:tt),+ $(,)?) => {
        Sql {
            sqlite: concat!($(live_sql!(@sqlite $p $part)),+),
            postgres: concat!($(live_sql!(@postgres $p $part)),+),
        }
    };
}

/// Live instances, by id; `$1` is the dead threshold.
const LIVE_INSTANCES: Sql = live_sql!(
    "$1",
    "SELECT ",
    INSTANCE_COLUMNS,
    " FROM instances WHERE id IN (",
    LIVE,
    ") ORDER BY id"
);

/// Takes up to `$3` jobs without a live owner for `$1`; `$2` is the dead threshold.
const CLAIM: Sql = live_sql!(
    "$2",
    "UPDATE jobs SET owner = $1, epoch = epoch + 1 WHERE id IN ( \
       SELECT j.id FROM jobs j WHERE j.owner IS NULL OR (j.owner <> $1 AND j.owner NOT IN (",
    LIVE,
    ")) ORDER BY j.name LIMIT $3",
    SKIP_LOCKED,
    ") RETURNING ",
    JOB_COLUMNS
);

/// `(live instance, jobs it owns, true)` for every live instance, then `(owner, jobs, false)`
/// for the jobs without a live owner; `$1` is the dead threshold.
const OWNERSHIP: Sql = live_sql!(
    "$1",
    "WITH live AS (",
    LIVE,
    "), c AS (SELECT owner, COUNT(*) AS n FROM jobs GROUP BY owner) \
     SELECT l.id AS id, COALESCE(c.n, 0) AS n, CAST(1 AS BIGINT) AS live FROM live l LEFT JOIN c ON c.owner = l.id \
     UNION ALL SELECT c.owner AS id, c.n AS n, CAST(0 AS BIGINT) AS live FROM c \
     WHERE c.owner IS NULL OR c.owner NOT IN (SELECT id FROM live) \
     ORDER BY live DESC, id"
);

/// `(dead instance, jobs it still owns)` for every instance that is not live but owns jobs,
/// then `(NULL, jobs without an owner)`; `$1` is the dead threshold. Cheap enough to poll: it
/// reads the (few) instance rows and goes through the owner index.
const ORPHAN_SUMMARY: Sql = live_sql!(
    "$1",
    "SELECT d.id AS id, (SELECT COUNT(*) FROM jobs j WHERE j.owner = d.id) AS n \
     FROM instances d WHERE d.id NOT IN (",
    LIVE,
    ") AND EXISTS (SELECT 1 FROM jobs j WHERE j.owner = d.id) \
     UNION ALL SELECT NULL AS id, COUNT(*) AS n FROM jobs WHERE owner IS NULL \
     ORDER BY id"
);

/// Hands a batch of jobs from `$1` to `$2` (PostgreSQL), each only if still owned by `$1`
/// under the given epoch.
const HAND_OVER_PG: &str = "UPDATE jobs j SET owner = $2, epoch = j.epoch + 1 \
     FROM UNNEST($3::text[], $4::bigint[]) AS b(id, epoch) \
     WHERE j.id = b.id AND j.epoch = b.epoch AND j.owner = $1 RETURNING j.id";

/// Hands one job from `$1` to `$2` (SQLite) if still owned by `$1` under epoch `$4`.
const HAND_OVER_ONE: &str =
    "UPDATE jobs SET owner = $2, epoch = epoch + 1 WHERE id = $3 AND epoch = $4 AND owner = $1";

impl Store {
    /// Registers or refreshes instance `id` (an upsert: an instance that was declared dead or
    /// had left is registered again) and returns the database time of the heartbeat.
    pub async fn heartbeat(
        &self,
        id: &str,
        address: &str,
        version: &str,
    ) -> Result<i64, StoreError> {
        let upsert = sql!(
            "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms) \
             SELECT $1, $2, $3, t.ms, t.ms, NULL FROM (SELECT ",
            now,
            " AS ms) t WHERE true \
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
             version = excluded.version, heartbeat_at_ms = excluded.heartbeat_at_ms, \
             started_at_ms = CASE WHEN instances.left_at_ms IS NULL \
                 THEN instances.started_at_ms ELSE excluded.started_at_ms END, \
             left_at_ms = NULL \
             RETURNING heartbeat_at_ms"
        );
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_scalar(upsert.get(backend))
                .bind(id)
                .bind(address)
                .bind(version)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Marks instance `id` as gone (graceful shutdown); it is no longer live.
    pub async fn leave(&self, id: &str) -> Result<(), StoreError> {
        let update = sql!("UPDATE instances SET left_at_ms = ", now, " WHERE id = $1");
        on_pool!(self, |pool, backend| {
            sqlx::query(update.get(backend))
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Live instances (see the module documentation), by id.
    pub async fn live_instances(&self, dead_after_ms: i64) -> Result<Vec<Instance>, StoreError> {
        on_pool!(self, |pool, backend| {
            let rows: Vec<InstanceRow> = sqlx::query_as(LIVE_INSTANCES.get(backend))
                .bind(dead_after_ms)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(Instance::from).collect())
        })
    }

    /// Every registered instance, live or not, by id.
    pub async fn all_instances(&self) -> Result<Vec<Instance>, StoreError> {
        let select = sql!("SELECT ", instance_columns, " FROM instances ORDER BY id");
        on_pool!(self, |pool, backend| {
            let rows: Vec<InstanceRow> =
                sqlx::query_as(select.get(backend)).fetch_all(pool).await?;
            Ok(rows.into_iter().map(Instance::from).collect())
        })
    }

    /// Atomically takes ownership, for `instance`, of every job that has no owner or whose
    /// owner is not live (see the module documentation). Each claimed job's epoch is bumped;
    /// the claimed jobs are returned by name.
    pub async fn claim_jobs(
        &self,
        instance: &str,
        dead_after_ms: i64,
    ) -> Result<Vec<Job>, StoreError> {
        self.claim_jobs_limited(instance, dead_after_ms, None).await
    }

    /// [`Store::claim_jobs`] taking at most `limit` jobs (in name order), for replicas that
    /// claim only their fair share. On PostgreSQL, jobs locked by a concurrent claim are
    /// skipped, not waited for.
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
        on_pool!(self, |pool, backend| {
            let rows: Vec<JobRow> = sqlx::query_as(CLAIM.get(backend))
                .bind(instance)
                .bind(dead_after_ms)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut jobs = jobs_from_rows(rows)?;
            jobs.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(jobs)
        })
    }

    /// The live instances with their job counts, and how many jobs have no live owner: what a
    /// replica balances from.
    pub async fn ownership(&self, dead_after_ms: i64) -> Result<Ownership, StoreError> {
        on_pool!(self, |pool, backend| {
            let rows: Vec<(Option<String>, i64, i64)> = sqlx::query_as(OWNERSHIP.get(backend))
                .bind(dead_after_ms)
                .fetch_all(pool)
                .await?;
            let mut view = Ownership::default();
            for (id, n, live) in rows {
                match id {
                    Some(id) if live != 0 => view.live.push((id, n)),
                    _ => view.orphans += n,
                }
            }
            view.live.sort();
            Ok(view)
        })
    }

    /// Who left jobs without a live owner: `(dead instance, jobs)` by id, then `(None, jobs
    /// without an owner)`. Polled between heartbeats to notice a crashed peer at once.
    pub async fn orphan_summary(
        &self,
        dead_after_ms: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_as(ORPHAN_SUMMARY.get(backend))
                .bind(dead_after_ms)
                .fetch_all(pool)
                .await?)
        })
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
        self.bounded(async {
            match &self.pool {
                Pool::Postgres(pool) => {
                    let ids: Vec<&str> = jobs.iter().map(|(id, _)| id.as_str()).collect();
                    let epochs: Vec<i64> = jobs.iter().map(|(_, e)| *e).collect();
                    Ok(sqlx::query_scalar(HAND_OVER_PG)
                        .bind(from)
                        .bind(to)
                        .bind(ids)
                        .bind(epochs)
                        .fetch_all(pool)
                        .await?)
                }
                Pool::Sqlite(pool) => {
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    let mut moved = Vec::new();
                    for (id, epoch) in jobs {
                        let done = sqlx::query(HAND_OVER_ONE)
                            .bind(from)
                            .bind(to)
                            .bind(id)
                            .bind(epoch)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() > 0 {
                            moved.push(id.clone());
                        }
                    }
                    tx.commit().await?;
                    Ok(moved)
                }
            }
        })
        .await
    }

    /// Deletes instance rows that have not heartbeat for `stale_after_ms` and own no job;
    /// returns how many.
    pub async fn delete_stale_instances(&self, stale_after_ms: i64) -> Result<u64, StoreError> {
        let delete = sql!(
            "DELETE FROM instances WHERE heartbeat_at_ms < ",
            now,
            " - $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.owner = instances.id)"
        );
        on_pool!(self, |pool, backend| {
            let done = sqlx::query(delete.get(backend))
                .bind(stale_after_ms)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Gives up every job `instance` owns (owner cleared, epoch bumped), for a graceful
    /// shutdown; returns how many.
    pub async fn release_jobs(&self, instance: &str) -> Result<u64, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done =
                sqlx::query("UPDATE jobs SET owner = NULL, epoch = epoch + 1 WHERE owner = $1")
                    .bind(instance)
                    .execute(pool)
                    .await?;
            Ok(done.rows_affected())
        })
    }

    /// Gives up one job if `instance` still owns it under `epoch` (owner cleared, epoch
    /// bumped), so another replica can take it; false when it was not owned so.
    pub async fn release_job(
        &self,
        job_id: &str,
        instance: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query(
                "UPDATE jobs SET owner = NULL, epoch = epoch + 1 \
                 WHERE id = $1 AND owner = $2 AND epoch = $3",
            )
            .bind(job_id)
            .bind(instance)
            .bind(epoch)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Every job `instance` owns, by name.
    pub async fn list_owned_jobs(&self, instance: &str) -> Result<Vec<Job>, StoreError> {
        let select = sql!(
            "SELECT ",
            job_columns,
            " FROM jobs WHERE owner = $1 ORDER BY name"
        );
        on_pool!(self, |pool, backend| {
            let rows: Vec<JobRow> = sqlx::query_as(select.get(backend))
                .bind(instance)
                .fetch_all(pool)
                .await?;
            jobs_from_rows(rows)
        })
    }

    /// `(id, version, epoch)` of every job `instance` owns, by id: a cheap way to notice edits
    /// and ownership changes before reloading whole jobs.
    pub async fn owned_job_versions(
        &self,
        instance: &str,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(
                sqlx::query_as("SELECT id, version, epoch FROM jobs WHERE owner = $1 ORDER BY id")
                    .bind(instance)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// `(instance id, number of jobs it owns)` for every instance that owns at least one job,
    /// by instance id.
    pub async fn owned_job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(sqlx::query_as(
                "SELECT owner, COUNT(*) FROM jobs WHERE owner IS NOT NULL \
                 GROUP BY owner ORDER BY owner",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
