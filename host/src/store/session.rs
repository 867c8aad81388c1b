//! A replica's database session (PostgreSQL): a dedicated connection, kept outside the pool,
//! that holds a session-level advisory lock named after the replica and carries its
//! heartbeats. The heartbeat records the connection's backend pid; peers consider the replica
//! crashed as soon as that pid holds no advisory lock any more (the server ends a session
//! within moments of its client process dying), see [`super::instances`].
//!
//! A stopped (SIGSTOP) process keeps its TCP connection, so its session stays: for a paused
//! replica the heartbeat threshold applies.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::error::StoreError;
use super::{Pool, Store};

/// First key of every wasmcron advisory lock (`'wasm'` in ASCII); the second is
/// `hashtext('wasmcron:' || instance id)`.
pub const LOCK_NAMESPACE: i32 = 0x7761_736d;

/// Heartbeat upsert that also records the session (`$4`: backend pid, or NULL when the lock is
/// not held). `session_since_ms` moves only when the recorded session changes.
const HEARTBEAT: &str = concat!(
    "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms, \
     session_pid, session_since_ms) \
     SELECT $1, $2, $3, t.ms, t.ms, NULL, $4, t.ms FROM (SELECT ",
    postgres_now_ms!(),
    " AS ms) t \
     ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
     version = excluded.version, heartbeat_at_ms = excluded.heartbeat_at_ms, \
     started_at_ms = CASE WHEN instances.left_at_ms IS NULL \
         THEN instances.started_at_ms ELSE excluded.started_at_ms END, \
     left_at_ms = NULL, \
     session_since_ms = CASE WHEN instances.session_pid IS NOT DISTINCT FROM excluded.session_pid \
         THEN instances.session_since_ms ELSE excluded.session_since_ms END, \
     session_pid = excluded.session_pid \
     RETURNING heartbeat_at_ms"
);

/// The dedicated connection of one replica.
#[derive(Debug)]
pub struct Session {
    conn: PgConnection,
    instance: String,
    pid: i64,
    locked: bool,
    timeout: Duration,
}

impl Store {
    /// Opens the replica's session on PostgreSQL and tries to take its lock; `None` on SQLite
    /// (no server sessions: the heartbeat alone tells whether a replica is live).
    pub async fn open_session(&self, instance: &str) -> Result<Option<Session>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let options = pool.connect_options();
        let conn =
            tokio::time::timeout(self.operation_timeout, PgConnection::connect_with(&options))
                .await
                .map_err(|_| StoreError::TimedOut(self.operation_timeout))??;
        let mut session = Session {
            conn,
            instance: instance.to_owned(),
            pid: 0,
            locked: false,
            timeout: self.operation_timeout,
        };
        session.pid = session
            .bounded(|c| {
                Box::pin(sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(c))
            })
            .await? as i64;
        session.try_lock().await?;
        Ok(Some(session))
    }
}

type Call<'c, T> = futures::future::BoxFuture<'c, Result<T, sqlx::Error>>;

impl Session {
    /// Whether this session holds the replica's lock (another live process with the same
    /// instance id may hold it instead).
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The session's backend pid.
    pub fn pid(&self) -> i64 {
        self.pid
    }

    async fn bounded<T>(
        &mut self,
        call: impl for<'c> FnOnce(&'c mut PgConnection) -> Call<'c, T>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call(&mut self.conn)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(StoreError::TimedOut(self.timeout)),
        }
    }

    async fn try_lock(&mut self) -> Result<(), StoreError> {
        if self.locked {
            return Ok(());
        }
        let key = format!("wasmcron:{}", self.instance);
        self.locked = self
            .bounded(move |c| {
                Box::pin(
                    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1, hashtext($2))")
                        .bind(LOCK_NAMESPACE)
                        .bind(key)
                        .fetch_one(c),
                )
            })
            .await?;
        if !self.locked {
            tracing::warn!(
                instance = %self.instance,
                "another process holds this instance id's session lock; liveness falls back to the heartbeat"
            );
        }
        Ok(())
    }

    /// Heartbeat through this session (see [`Store::heartbeat`]), recording the session when
    /// it holds the lock; returns the database time of the heartbeat.
    pub async fn heartbeat(&mut self, address: &str, version: &str) -> Result<i64, StoreError> {
        self.try_lock().await?;
        let pid = self.locked.then_some(self.pid);
        let (id, address, version) = (
            self.instance.clone(),
            address.to_owned(),
            version.to_owned(),
        );
        self.bounded(move |c| {
            Box::pin(
                sqlx::query_scalar::<_, i64>(HEARTBEAT)
                    .bind(id)
                    .bind(address)
                    .bind(version)
                    .bind(pid)
                    .fetch_one(c),
            )
        })
        .await
    }

    /// Ends the session (its lock goes with it).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.conn.close()).await;
    }
}
