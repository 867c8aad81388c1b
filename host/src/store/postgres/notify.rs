//! Change notifications on PostgreSQL: `NOTIFY` through the pool, `LISTEN` on a dedicated
//! connection (sqlx's listener, which reconnects by itself and then reports a gap); and the
//! events, appended and announced in one statement.

use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres};

use crate::store::driver::{ListenerDriver, Op};
use crate::store::error::StoreError;
use crate::store::events::EVENTS_CHANNEL;
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

/// Appends events in order at one instant of the database clock and announces them on the
/// events channel, in one statement (its own transaction: the `NOTIFY` is heard at its commit).
/// The shared path takes five round trips for the same (begin, clock, insert, commit, notify);
/// a replica firing thousands of runs a second appends a batch of events per round trip.
const APPEND_EVENTS: &str = concat!(
    "WITH t AS (SELECT ",
    now_ms!(),
    " AS ms), added AS (INSERT INTO events (at_ms, kind, payload) \
     SELECT t.ms, e.kind, e.payload FROM t CROSS JOIN \
     UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS e(kind, payload, n) ORDER BY e.n \
     RETURNING id) \
     SELECT pg_notify($3, '') FROM (SELECT 1 FROM added LIMIT 1) x"
);

pub(super) async fn append_events(
    conn: &mut Held<'_, Postgres>,
    events: &[(&str, String)],
) -> Result<(), StoreError> {
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| *kind).collect();
    let payloads: Vec<&str> = events.iter().map(|(_, payload)| payload.as_str()).collect();
    sqlx::query(APPEND_EVENTS)
        .bind(kinds)
        .bind(payloads)
        .bind(EVENTS_CHANNEL)
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
