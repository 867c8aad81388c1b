//! A replica's database session: a dedicated connection, kept outside the pool, that holds a
//! lock named after the replica and carries its heartbeats. The heartbeat records the
//! connection's id; peers consider the replica crashed as soon as that connection holds the
//! lock no more (the server ends a session within moments of its client process dying), see
//! [`super::instances`]. Only engines with such sessions have one (PostgreSQL: a
//! session-level advisory lock); elsewhere the heartbeat alone tells whether a replica is live.
//!
//! A stopped (SIGSTOP) process keeps its TCP connection, so its session stays: for a paused
//! replica the heartbeat threshold applies.

use std::future::Future;
use std::time::Duration;

use super::Store;
use super::driver::SessionDriver;
use super::error::StoreError;

/// The dedicated connection of one replica.
pub struct Session {
    conn: Box<dyn SessionDriver>,
    instance: String,
    pid: i64,
    locked: bool,
    timeout: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("instance", &self.instance)
            .field("pid", &self.pid)
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the replica's session and tries to take its lock; `None` where the engine has no
    /// server sessions (SQLite: the heartbeat alone tells whether a replica is live).
    pub async fn open_session(&self, instance: &str) -> Result<Option<Session>, StoreError> {
        let Some(conn) = self.bounded(self.driver.open_session()).await? else {
            return Ok(None);
        };
        let mut session = Session {
            pid: conn.id(),
            conn,
            instance: instance.to_owned(),
            locked: false,
            timeout: self.operation_timeout,
        };
        session.try_lock().await?;
        Ok(Some(session))
    }
}

impl Session {
    /// Whether this session holds the replica's lock (another live process with the same
    /// instance id may hold it instead).
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The session's connection id (on PostgreSQL, its backend pid).
    pub fn pid(&self) -> i64 {
        self.pid
    }

    async fn bounded<T>(
        timeout: Duration,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or(Err(StoreError::TimedOut(timeout)))
    }

    async fn try_lock(&mut self) -> Result<(), StoreError> {
        if self.locked {
            return Ok(());
        }
        self.locked = Self::bounded(self.timeout, self.conn.try_lock(&self.instance)).await?;
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
        let session = self.locked.then_some(self.pid);
        let beat = self
            .conn
            .heartbeat(&self.instance, address, version, session);
        Self::bounded(self.timeout, beat).await
    }

    /// Ends the session (its lock goes with it).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.conn.close()).await;
    }
}
