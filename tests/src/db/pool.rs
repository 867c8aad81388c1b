//! A run's reads of the database, straight from its server, in PostgreSQL's or MySQL's
//! dialect: the database clock, who owns how many jobs, the runs table, one job's row.

use std::collections::BTreeMap;

use crate::cluster::RunRow;

/// A connection pool to a run's database (see [`super::TestDb::direct_url`]).
#[derive(Debug, Clone)]
pub enum Pool {
    /// PostgreSQL (also behind PgBouncer: the pool goes past the pooler).
    Postgres(sqlx::PgPool),
    /// MariaDB or MySQL.
    MySql(sqlx::MySqlPool),
}

/// A job's row: what the chaos run reads back after changing a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub schedule: String,
    pub paused: bool,
    /// Where the schedule's ticks are counted from (database clock, ms).
    pub anchor_ms: i64,
    /// The last change (database clock, ms).
    pub updated_at_ms: i64,
}

/// One run as MySQL returns it (its booleans are integers).
type MySqlRun = (
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

impl Pool {
    /// Connects to `url` (`postgres://`, `postgresql://` or `mysql://`).
    pub async fn connect(url: &str) -> Result<Pool, sqlx::Error> {
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Ok(Pool::MySql(sqlx::MySqlPool::connect(url).await?))
        } else {
            Ok(Pool::Postgres(sqlx::PgPool::connect(url).await?))
        }
    }

    /// The database clock, in Unix epoch milliseconds.
    pub async fn now_ms(&self) -> Result<i64, sqlx::Error> {
        match self {
            Pool::Postgres(p) => {
                sqlx::query_scalar("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint")
                    .fetch_one(p)
                    .await
            }
            Pool::MySql(p) => {
                sqlx::query_scalar(
                    "SELECT CAST(ROUND(UNIX_TIMESTAMP(SYSDATE(3)) * 1000) AS SIGNED)",
                )
                .fetch_one(p)
                .await
            }
        }
    }

    /// How many jobs each owner holds (`""` for no owner).
    pub async fn owner_counts(&self) -> Result<BTreeMap<String, i64>, sqlx::Error> {
        const SQL: &str = "SELECT owner, COUNT(*) FROM jobs GROUP BY owner";
        let rows: Vec<(Option<String>, i64)> = match self {
            Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await?,
            Pool::MySql(p) => sqlx::query_as(SQL).fetch_all(p).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(owner, n)| (owner.unwrap_or_default(), n))
            .collect())
    }

    /// Runs a statement without parameters, written so that both dialects read it.
    pub async fn execute(&self, sql: &'static str) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
            Pool::MySql(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        })
    }

    /// The replicas holding a claim on a pending alert delivery.
    pub async fn alert_holders(&self) -> Result<Vec<String>, sqlx::Error> {
        const SQL: &str =
            "SELECT holder FROM alert_outbox WHERE state = 'pending' AND holder IS NOT NULL";
        match self {
            Pool::Postgres(p) => sqlx::query_scalar(SQL).fetch_all(p).await,
            Pool::MySql(p) => sqlx::query_scalar(SQL).fetch_all(p).await,
        }
    }

    /// `(job id, owner, epoch)` of every job, by id.
    pub async fn owners(&self) -> Result<Vec<(String, Option<String>, i64)>, sqlx::Error> {
        const SQL: &str = "SELECT id, owner, epoch FROM jobs ORDER BY id";
        match self {
            Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await,
            Pool::MySql(p) => sqlx::query_as(SQL).fetch_all(p).await,
        }
    }

    /// The holder and epoch of the lease `housekeeping`.
    pub async fn housekeeping_lease(&self) -> Result<Option<(String, i64)>, sqlx::Error> {
        const SQL: &str = "SELECT holder, epoch FROM leases WHERE name = 'housekeeping'";
        match self {
            Pool::Postgres(p) => sqlx::query_as(SQL).fetch_optional(p).await,
            Pool::MySql(p) => sqlx::query_as(SQL).fetch_optional(p).await,
        }
    }

    /// Every run, by job, tick and attempt.
    pub async fn runs(&self) -> Result<Vec<RunRow>, sqlx::Error> {
        match self {
            Pool::Postgres(p) => {
                sqlx::query_as(
                    "SELECT job_id, scheduled_at_ms, CAST(attempt AS BIGINT) AS attempt, status, \
                     reason, instance_id, catch_up, manual, \
                     COALESCE(started_at_ms, finished_at_ms) AS recorded_at_ms \
                     FROM runs ORDER BY job_id, scheduled_at_ms, attempt",
                )
                .fetch_all(p)
                .await
            }
            Pool::MySql(p) => {
                let rows: Vec<MySqlRun> = sqlx::query_as(
                    "SELECT job_id, scheduled_at_ms, CAST(attempt AS SIGNED), status, reason, \
                     instance_id, CAST(catch_up AS SIGNED), CAST(manual AS SIGNED), \
                     COALESCE(started_at_ms, finished_at_ms) \
                     FROM runs ORDER BY job_id, scheduled_at_ms, attempt",
                )
                .fetch_all(p)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(
                            job_id,
                            tick,
                            attempt,
                            status,
                            reason,
                            instance_id,
                            catch_up,
                            manual,
                            at,
                        )| {
                            RunRow {
                                job_id,
                                scheduled_at_ms: tick,
                                attempt,
                                status,
                                reason,
                                instance_id,
                                catch_up: catch_up != 0,
                                manual: manual != 0,
                                recorded_at_ms: at,
                            }
                        },
                    )
                    .collect())
            }
        }
    }

    /// The row of job `id`.
    pub async fn job_row(&self, id: &str) -> Result<JobRow, sqlx::Error> {
        let (schedule, paused, anchor_ms, updated_at_ms) = match self {
            Pool::Postgres(p) => {
                let (schedule, paused, anchor, updated): (String, bool, i64, i64) = sqlx::query_as(
                    "SELECT schedule, paused, anchor_ms, updated_at_ms FROM jobs \
                         WHERE id = $1",
                )
                .bind(id)
                .fetch_one(p)
                .await?;
                (schedule, paused, anchor, updated)
            }
            Pool::MySql(p) => {
                let (schedule, paused, anchor, updated): (String, i64, i64, i64) = sqlx::query_as(
                    "SELECT schedule, CAST(paused AS SIGNED), anchor_ms, updated_at_ms \
                         FROM jobs WHERE id = ?",
                )
                .bind(id)
                .fetch_one(p)
                .await?;
                (schedule, paused != 0, anchor, updated)
            }
        };
        Ok(JobRow {
            schedule,
            paused,
            anchor_ms,
            updated_at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mariadb::MariaDbServer;

    /// The MySQL dialect of the reads, on a real MariaDB server, over tables with the columns
    /// the reads use, typed as on PostgreSQL (BOOLEAN is TINYINT(1) there).
    #[tokio::test]
    async fn the_reads_work_on_mariadb() {
        let server = MariaDbServer::start().unwrap();
        let url = server.create_database("reads").unwrap();
        let pool = Pool::connect(&url).await.unwrap();
        let Pool::MySql(my) = &pool else {
            panic!("a mysql:// URL opens a MySQL pool")
        };
        for ddl in [
            "CREATE TABLE jobs (id VARCHAR(64) PRIMARY KEY, owner VARCHAR(255) NULL, \
             schedule VARCHAR(255) NOT NULL, paused BOOLEAN NOT NULL, anchor_ms BIGINT NOT NULL, \
             updated_at_ms BIGINT NOT NULL)",
            "CREATE TABLE runs (job_id VARCHAR(64) NOT NULL, scheduled_at_ms BIGINT NOT NULL, \
             status VARCHAR(16) NOT NULL, reason VARCHAR(32) NULL, instance_id VARCHAR(255) NULL, \
             catch_up BOOLEAN NOT NULL, manual BOOLEAN NOT NULL, started_at_ms BIGINT NULL, \
             finished_at_ms BIGINT NULL, attempt INT NOT NULL, \
             PRIMARY KEY (job_id, scheduled_at_ms, attempt))",
            "INSERT INTO jobs VALUES ('a', 'r1', '@every 1s', FALSE, 1000, 2000), \
             ('b', 'r1', '@every 2s', TRUE, 3000, 4000), ('c', NULL, '@every 1s', FALSE, 0, 0)",
            "INSERT INTO runs VALUES \
             ('a', 2000, 'succeeded', NULL, 'r1', TRUE, FALSE, 2100, 2200, 1), \
             ('a', 3000, 'missed', 'misfire', NULL, FALSE, FALSE, NULL, 3300, 1), \
             ('a', 3500, 'failed', NULL, 'r1', FALSE, TRUE, 3600, 3700, 1), \
             ('a', 3500, 'running', NULL, 'r1', FALSE, TRUE, 4600, NULL, 2)",
        ] {
            sqlx::query(ddl).execute(my).await.unwrap();
        }

        let now = pool.now_ms().await.unwrap();
        let local = chrono::Utc::now().timestamp_millis();
        assert!(
            (now - local).abs() < 5_000,
            "database clock {now}, local {local}"
        );
        let owners = pool.owner_counts().await.unwrap();
        assert_eq!(
            owners,
            BTreeMap::from([("".to_string(), 1), ("r1".to_string(), 2)])
        );
        assert_eq!(
            pool.job_row("b").await.unwrap(),
            JobRow {
                schedule: "@every 2s".into(),
                paused: true,
                anchor_ms: 3000,
                updated_at_ms: 4000,
            }
        );
        let runs = pool.runs().await.unwrap();
        let summary: Vec<(i64, &str, bool, bool, Option<i64>)> = runs
            .iter()
            .map(|r| {
                (
                    r.scheduled_at_ms,
                    r.status.as_str(),
                    r.catch_up,
                    r.manual,
                    r.recorded_at_ms,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (2000, "succeeded", true, false, Some(2100)),
                (3000, "missed", false, false, Some(3300)),
                (3500, "failed", false, true, Some(3600)),
                (3500, "running", false, true, Some(4600)),
            ]
        );
        let attempts: Vec<i64> = runs.iter().map(|r| r.attempt).collect();
        assert_eq!(attempts, [1, 1, 1, 2]);
        assert_eq!(runs[1].reason.as_deref(), Some("misfire"));
        assert_eq!(runs[1].instance_id, None);
    }
}
