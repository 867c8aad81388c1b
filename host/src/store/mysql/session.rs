//! A replica's session on MySQL/MariaDB: a dedicated connection, outside the pool, holding the
//! named lock [`lock_name`] (`GET_LOCK(name, 0)`; the server releases it when the connection
//! ends, as PostgreSQL does a session's advisory lock). The heartbeat records the connection's
//! id, the lock's name and when the server started; the liveness condition of the module root
//! (`live_session!`) checks with `IS_USED_LOCK(name)` that the recorded connection still holds
//! it.
//!
//! Lock names are server-wide (not per database) and at most 64 characters: the name is
//! `wasmcron:<database>:<instance id>`, or when that is longer, `wasmcron:` and the first 55
//! hex digits of its SHA-256.

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::mysql::{MySqlConnection, MySqlPool};

use super::open::Setup;
use crate::store::driver::{Op, SessionDriver};
use crate::store::error::StoreError;

/// The longest lock name the servers take.
const MAX_LOCK_NAME: usize = 64;

/// Heartbeat upsert that also records the session (connection id, lock name and the server's
/// start, or all NULL when the lock is not held). `session_since_ms` moves only when the
/// recorded session changes; the assignments run left to right, so it compares the old values.
const HEARTBEAT: &str = concat!(
    "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms, \
     session_pid, session_lock, session_boot_ms, session_since_ms) VALUES (?, ?, ?, ",
    now_ms!(),
    ", ",
    now_ms!(),
    ", NULL, ?, ?, ?, ",
    now_ms!(),
    ") ON DUPLICATE KEY UPDATE address = VALUES(address), version = VALUES(version), \
     heartbeat_at_ms = VALUES(heartbeat_at_ms), \
     started_at_ms = IF(left_at_ms IS NULL, started_at_ms, VALUES(started_at_ms)), \
     left_at_ms = NULL, \
     session_since_ms = IF(session_pid <=> VALUES(session_pid) \
         AND session_boot_ms <=> VALUES(session_boot_ms), \
         session_since_ms, VALUES(session_since_ms)), \
     session_pid = VALUES(session_pid), session_lock = VALUES(session_lock), \
     session_boot_ms = VALUES(session_boot_ms)"
);

/// The heartbeat's time, read back on the same connection.
const HEARTBEAT_AT: &str = "SELECT heartbeat_at_ms FROM instances WHERE id = ?";

/// The dedicated connection, its id, its database and when its server started.
struct MysqlSession {
    conn: MySqlConnection,
    id: i64,
    database: String,
    boot_ms: Option<i64>,
}

/// Opens a connection with the pool's options and settings and reads who it is.
pub(super) async fn open(
    pool: &MySqlPool,
    setup: Setup,
) -> Result<Option<Box<dyn SessionDriver>>, StoreError> {
    let mut conn = MySqlConnection::connect_with(&pool.connect_options()).await?;
    setup.apply(&mut conn).await?;
    let (id, database, now_ms): (i64, String, i64) = sqlx::query_as(concat!(
        "SELECT CAST(CONNECTION_ID() AS SIGNED), COALESCE(DATABASE(), ''), ",
        now_ms!()
    ))
    .fetch_one(&mut conn)
    .await?;
    let boot_ms = server_start(&mut conn, now_ms).await;
    Ok(Some(Box::new(MysqlSession {
        conn,
        id,
        database,
        boot_ms,
    })))
}

/// When the server started, no later than it did: `Uptime` counts whole seconds. `None` where
/// the server does not tell (then the heartbeat decides after a restart until the replicas
/// have heartbeated again).
async fn server_start(conn: &mut MySqlConnection, now_ms: i64) -> Option<i64> {
    let uptime: Option<(String, String)> = sqlx::query_as("SHOW GLOBAL STATUS LIKE 'Uptime'")
        .fetch_optional(conn)
        .await
        .ok()?;
    let seconds: i64 = uptime?.1.parse().ok()?;
    Some(now_ms - (seconds + 1) * 1000)
}

/// The lock that marks `instance` live in `database`.
pub(super) fn lock_name(database: &str, instance: &str) -> String {
    let plain = format!("wasmcron:{database}:{instance}");
    if plain.chars().count() <= MAX_LOCK_NAME {
        return plain;
    }
    let digest = hex::encode(Sha256::digest(format!("{database}:{instance}")));
    format!("wasmcron:{}", &digest[..MAX_LOCK_NAME - "wasmcron:".len()])
}

impl SessionDriver for MysqlSession {
    fn id(&self) -> i64 {
        self.id
    }

    fn try_lock<'a>(&'a mut self, instance: &'a str) -> Op<'a, bool> {
        Box::pin(async move {
            let locked: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, 0) AS SIGNED)")
                .bind(lock_name(&self.database, instance))
                .fetch_one(&mut self.conn)
                .await?;
            Ok(locked == Some(1))
        })
    }

    fn heartbeat<'a>(
        &'a mut self,
        instance: &'a str,
        address: &'a str,
        version: &'a str,
        session: Option<i64>,
    ) -> Op<'a, i64> {
        Box::pin(async move {
            let lock = session.map(|_| lock_name(&self.database, instance));
            sqlx::query(HEARTBEAT)
                .bind(instance)
                .bind(address)
                .bind(version)
                .bind(session)
                .bind(lock)
                .bind(session.and(self.boot_ms))
                .execute(&mut self.conn)
                .await?;
            Ok(sqlx::query_scalar(HEARTBEAT_AT)
                .bind(instance)
                .fetch_one(&mut self.conn)
                .await?)
        })
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = self.conn.close().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_fit_in_64_characters_and_name_the_database() {
        assert_eq!(lock_name("wasmcron", "r1"), "wasmcron:wasmcron:r1");
        assert_ne!(lock_name("a", "r1"), lock_name("b", "r1"));
        let long = "replica-".repeat(10);
        let name = lock_name("wasmcron", &long);
        assert_eq!(name.len(), 64);
        assert!(name.starts_with("wasmcron:"));
        assert_ne!(name, lock_name("wasmcron", &format!("{long}x")));
        assert_eq!(name, lock_name("wasmcron", &long), "the same every time");
    }
}
