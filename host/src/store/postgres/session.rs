//! A replica's session on PostgreSQL: a dedicated connection, outside the pool, holding the
//! session-level advisory lock `(LOCK_NAMESPACE, hashtext('wasmcron:' || instance id))`. The
//! heartbeat records the connection's backend pid; the liveness condition of the module root
//! (`live_session`) checks in `pg_locks` whether that pid still holds an advisory lock (the server ends a session within
//! moments of its client process dying).

use futures::future::BoxFuture;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPool};

use crate::store::driver::{Op, SessionDriver};
use crate::store::error::StoreError;

/// First key of every wasmcron advisory lock (`'wasm'` in ASCII); the second is
/// `hashtext('wasmcron:' || instance id)`.
const LOCK_NAMESPACE: i32 = 0x7761_736d;

/// Heartbeat upsert that also records the session (`$4`: backend pid, or NULL when the lock is
/// not held). `session_since_ms` moves only when the recorded session changes.
const HEARTBEAT: &str = concat!(
    "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms, \
     session_pid, session_since_ms) \
     SELECT $1, $2, $3, t.ms, t.ms, NULL, $4, t.ms FROM (SELECT ",
    now_ms!(),
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

/// The dedicated connection and its backend pid.
struct PgSession {
    conn: PgConnection,
    pid: i64,
}

/// Opens a connection with the pool's options and reads its backend pid.
pub(super) async fn open(pool: &PgPool) -> Result<Option<Box<dyn SessionDriver>>, StoreError> {
    let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await?;
    Ok(Some(Box::new(PgSession {
        conn,
        pid: i64::from(pid),
    })))
}

impl SessionDriver for PgSession {
    fn id(&self) -> i64 {
        self.pid
    }

    fn try_lock<'a>(&'a mut self, instance: &'a str) -> Op<'a, bool> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
                    .bind(LOCK_NAMESPACE)
                    .bind(format!("wasmcron:{instance}"))
                    .fetch_one(&mut self.conn)
                    .await?,
            )
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
            Ok(sqlx::query_scalar(HEARTBEAT)
                .bind(instance)
                .bind(address)
                .bind(version)
                .bind(session)
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
