//! Change notifications on PostgreSQL: `NOTIFY` through the pool, `LISTEN` on a dedicated
//! connection (sqlx's listener, which reconnects by itself and then reports a gap).

use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres};

use crate::store::driver::{ListenerDriver, Op};
use crate::store::error::StoreError;
use crate::store::sql::Held;

pub(super) async fn notify(
    conn: &mut Held<'_, Postgres>,
    channel: &str,
    payload: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .persistent(!conn.unnamed)
        .execute(&mut *conn.conn)
        .await?;
    Ok(())
}

pub(super) async fn listen(
    pool: &PgPool,
    channels: &[&str],
) -> Result<Option<Box<dyn ListenerDriver>>, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all(channels.iter().copied()).await?;
    Ok(Some(Box::new(Listener(listener))))
}

/// A `LISTEN` subscription.
struct Listener(PgListener);

impl ListenerDriver for Listener {
    fn next(&mut self) -> Op<'_, Option<(String, String)>> {
        Box::pin(async move {
            Ok(self
                .0
                .try_recv()
                .await?
                .map(|n| (n.channel().to_owned(), n.payload().to_owned())))
        })
    }
}
