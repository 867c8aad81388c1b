//! The operations that read back what they write, without `RETURNING`: a write and a read in
//! one transaction (the written row stays locked until the read), or one statement whose
//! answer carries the generated id (`last_insert_id`).

use sqlx::mysql::{MySql, MySqlPool, MySqlQueryResult};

use super::MysqlDriver;
use super::catalogue::SQL;
use crate::store::driver::JobEdit;
use crate::store::error::{StoreError, name_conflict};
use crate::store::model::{BeginRun, Job, NewJob, NewRun};
use crate::store::rows::JobRow;
use crate::store::rows::to_json_text as json_text;
use crate::store::sql::{self, Stmt};
use crate::store::tokens::StoredToken;

/// Jobs a claim may take, oldest name first, skipping rows another claim has locked (a
/// locking read locks the rows of its outer query only, not those of its subqueries).
const CLAIMABLE: &str = concat!(
    "SELECT j.id FROM jobs j WHERE j.owner IS NULL OR (j.owner <> ? AND j.owner NOT IN (",
    live_ids!(now_ms!(), live_session!(), "?"),
    ")) ORDER BY j.name LIMIT ? FOR UPDATE SKIP LOCKED"
);

/// Gives the claimed jobs to the claimant: (ids, claimant). A join, not `id IN (…)`: MariaDB
/// runs a single-table `UPDATE`'s `IN` subquery once per row of `jobs` (no semi-join before
/// 11.1), which at 10,000 jobs claimed at once read 10,000 × 10,000 rows and ran into the
/// statement time limit.
const TAKE: &str = concat!(
    "UPDATE jobs j JOIN ",
    json_ids!(),
    " t ON t.id = j.id SET j.owner = ?, j.epoch = j.epoch + 1"
);

/// The claimed jobs as they are now.
const TAKEN: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE id IN ",
    json_ids!(),
    " ORDER BY name"
);

/// The lease, locked, with the clock.
const LEASE: &str = concat!(
    "SELECT holder, epoch, expires_at_ms, ",
    now_ms!(),
    " FROM leases WHERE name = ? FOR UPDATE"
);

/// A lease nobody held: (name, holder, ttl).
const LEASE_NEW: &str = concat!(
    "INSERT INTO leases (name, holder, epoch, expires_at_ms) VALUES (?, ?, 1, ",
    now_ms!(),
    " + ?)"
);

/// Renews, or takes an expired lease under the next epoch: (holder, next epoch, ttl, name).
const LEASE_SET: &str = concat!(
    "UPDATE leases SET holder = ?, epoch = ?, expires_at_ms = ",
    now_ms!(),
    " + ? WHERE name = ?"
);

/// One token by name.
const TOKEN: &str = "SELECT name, role, sha256, created_at_ms, created_by, last_used_ms \
     FROM api_tokens WHERE name = ?";

/// The instant of the trigger the last insert of this connection wrote or found.
const TRIGGER_AT: &str = "SELECT scheduled_at_ms FROM manual_triggers WHERE id = LAST_INSERT_ID()";

/// Whether an error is a duplicate key.
fn duplicate(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(super) async fn create_job(
    pool: &MySqlPool,
    id: &str,
    new: &NewJob,
) -> Result<Job, StoreError> {
    let mut tx = pool.begin().await?;
    sql::insert_job_stmt::<MysqlDriver>(id, new)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_conflict(e, &new.name))?;
    let row: JobRow = Stmt::<MySql>::new(SQL.job_by_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Job::try_from(row)
}

pub(super) async fn update_job(
    pool: &MySqlPool,
    edit: JobEdit<'_>,
) -> Result<Option<Job>, StoreError> {
    let mut tx = pool.begin().await?;
    // The connection counts matched rows (sqlx asks for found rows), as PostgreSQL does.
    let matched = sql::update_job_stmt::<MysqlDriver>(&edit)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_conflict(e, &edit.job.name))?;
    if matched == 0 {
        return Ok(None);
    }
    if edit.drop_retries {
        // The retries this edit makes obsolete go with it, in its transaction.
        Stmt::<MySql>::new(SQL.drop_retries)
            .bind(edit.job.id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let row: JobRow = Stmt::<MySql>::new(SQL.job_by_id)
        .bind(edit.job.id.as_str())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Job::try_from(row).map(Some)
}

/// One statement: the insert happens only under the ownership check, and a tick that has its
/// row fails on the unique key. Nothing inserted and no conflict: not the owner, unless the
/// tick was recorded meanwhile.
pub(super) async fn begin_run(pool: &MySqlPool, run: &NewRun) -> Result<BeginRun, StoreError> {
    let begun = sql::begin_run_stmt::<MysqlDriver>(run)
        .execute_result(pool)
        .await;
    match begun {
        Ok(done) if done.rows_affected() > 0 => Ok(BeginRun::Started(inserted_id(&done))),
        Err(e) if duplicate(&e) => Ok(BeginRun::AlreadyRecorded),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(
            if sql::tick_recorded::<MysqlDriver>(pool, &run.job_id, run.scheduled_at_ms).await? {
                BeginRun::AlreadyRecorded
            } else {
                BeginRun::Fenced
            },
        ),
    }
}

/// The id an insert generated (ids are signed 64-bit in the schema).
fn inserted_id(done: &MySqlQueryResult) -> i64 {
    done.last_insert_id() as i64
}

/// Locks up to `limit` claimable jobs, takes them, reads them back.
pub(super) async fn claim_jobs(
    pool: &MySqlPool,
    instance: &str,
    dead_after_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<String> = Stmt::<MySql>::new(CLAIMABLE)
        .bind(instance)
        .bind(dead_after_ms)
        .bind(limit.max(0))
        .scalars(&mut *tx)
        .await?;
    if ids.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let ids = json_text(&ids);
    Stmt::<MySql>::new(TAKE)
        .bind(ids.as_str())
        .bind(instance)
        .execute(&mut *tx)
        .await?;
    let rows: Vec<JobRow> = Stmt::<MySql>::new(TAKEN)
        .bind(ids.as_str())
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.into_iter().map(Job::try_from).collect()
}

pub(super) async fn heartbeat(
    pool: &MySqlPool,
    id: &str,
    address: &str,
    version: &str,
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await?;
    Stmt::<MySql>::new(SQL.heartbeat)
        .bind(id)
        .bind(address)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    let at: i64 = Stmt::<MySql>::new("SELECT heartbeat_at_ms FROM instances WHERE id = ?")
        .bind(id)
        .scalar(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(at)
}

pub(super) async fn append_event(
    pool: &MySqlPool,
    kind: &str,
    payload: &str,
) -> Result<i64, StoreError> {
    let done = Stmt::<MySql>::new(SQL.append_event)
        .bind(kind)
        .bind(payload)
        .execute_result(pool)
        .await?;
    Ok(inserted_id(&done))
}

/// Inserts the trigger (or finds the one of the same millisecond), then reads its instant.
pub(super) async fn insert_trigger(
    pool: &MySqlPool,
    job_id: &str,
) -> Result<Option<i64>, StoreError> {
    let mut tx = pool.begin().await?;
    let written = Stmt::<MySql>::new(SQL.insert_trigger)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    if written == 0 {
        return Ok(None);
    }
    let at: i64 = Stmt::<MySql>::new(TRIGGER_AT).scalar(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(at))
}

/// Inserts the token; a name that is taken is `None`, any other conflict (the same secret)
/// an error, as on PostgreSQL.
pub(super) async fn token_create(
    pool: &MySqlPool,
    name: &str,
    role: &str,
    sha256: &str,
    created_by: Option<&str>,
) -> Result<Option<StoredToken>, StoreError> {
    let mut tx = pool.begin().await?;
    let inserted = Stmt::<MySql>::new(SQL.token_create)
        .bind(name)
        .bind(role)
        .bind(sha256)
        .bind(created_by)
        .execute(&mut *tx)
        .await;
    match inserted {
        Ok(_) => {}
        Err(e) if duplicate(&e) => {
            drop(tx);
            let taken: Option<StoredToken> = Stmt::<MySql>::new(TOKEN)
                .bind(name)
                .fetch_optional(pool)
                .await?;
            return match taken {
                Some(_) => Ok(None),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    }
    let token: StoredToken = Stmt::<MySql>::new(TOKEN)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// Takes or renews a lease, as the PostgreSQL upsert does: the holder renews under its epoch,
/// anyone takes an expired lease under the next epoch, a new lease starts at epoch 1.
pub(super) async fn acquire_lease(
    pool: &MySqlPool,
    name: &str,
    holder: &str,
    ttl_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let mut tx = pool.begin().await?;
    let current: Option<(String, i64, i64, i64)> = sqlx::query_as(LEASE)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    let epoch = match current {
        None => {
            let created = sqlx::query(LEASE_NEW)
                .bind(name)
                .bind(holder)
                .bind(ttl_ms)
                .execute(&mut *tx)
                .await;
            match created {
                Ok(_) => 1,
                // Another replica created it a moment ago: it holds it now.
                Err(e) if duplicate(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Some((current, epoch, expires_at_ms, now_ms)) => {
            let epoch = if current == holder {
                epoch
            } else if expires_at_ms < now_ms {
                epoch + 1
            } else {
                return Ok(None);
            };
            sqlx::query(LEASE_SET)
                .bind(holder)
                .bind(epoch)
                .bind(ttl_ms)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            epoch
        }
    };
    tx.commit().await?;
    Ok(Some(epoch))
}
