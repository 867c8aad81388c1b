//! What the shared executors need of an sqlx database, named once.
//!
//! Code generic over an sqlx [`Database`] needs bounds on other types: `i64: Encode<DB> +
//! Type<DB>`, `JobRow: FromRow<DB::Row>`, `&mut DB::Connection: Executor<DB>`. Rust does not
//! carry such bounds along with a trait (a `where` clause on a trait must be repeated by every
//! function that names the trait), so each one is turned into a capability *of the database
//! type itself*, a trait implemented for every sqlx database that has it, and [`SqlDb`] lists
//! them as supertraits, which Rust does carry along: `D: SqlDb` is the only bound a shared
//! executor writes.
//!
//! Adding a value type or a row shape to what the executors bind or read is one more
//! supertrait of [`SqlDb`].

use futures::future::BoxFuture;
use sqlx::database::HasStatementCache;
use sqlx::error::BoxDynError;
use sqlx::{Arguments, AssertSqlSafe, Database, Executor, FromRow, IntoArguments, Pool};

use super::alerts::{ClaimedRow, RecentRow};
use super::audit::AuditRow;
use super::overview::{FailingRow, MinuteRow, PausedRow, StaleRow};
use crate::store::rows::{EventRow, InstanceRow, JobRow, RunRow, TriggerRow};
use crate::store::tokens::StoredToken;

/// Everything the shared executors bind, read and run on a database: implemented by each
/// engine's sqlx database in one line (`impl SqlDb for sqlx::Sqlite {}`), which the compiler
/// accepts only if sqlx offers every capability listed here.
pub(crate) trait SqlDb:
    Database<Arguments: IntoArguments<Self>, QueryResult: Affected>
    + Runs
    + for<'a> Param<'a, i64>
    + for<'a> Param<'a, i32>
    + for<'a> Param<'a, bool>
    + for<'a> Param<'a, String>
    + for<'a> Param<'a, Option<i64>>
    + for<'a> Param<'a, Option<bool>>
    + for<'a> Param<'a, &'a str>
    + for<'a> Param<'a, Option<&'a str>>
    + for<'a> Param<'a, &'a [u8]>
    + Decodes<JobRow>
    + Decodes<RunRow>
    + Decodes<InstanceRow>
    + Decodes<TriggerRow>
    + Decodes<EventRow>
    + Decodes<StoredToken>
    + Decodes<(i64,)>
    + Decodes<(Option<i64>,)>
    + Decodes<(String,)>
    + Decodes<(Vec<u8>,)>
    + Decodes<(String, i64)>
    + Decodes<(String, i64, i64)>
    + Decodes<(Option<String>, i64)>
    + Decodes<(Option<String>, i64, i64)>
    + Decodes<(String, String)>
    + Decodes<(i64, String, String, i64)>
    + Decodes<(String, i64, i32, i64, bool, bool)>
    + Decodes<ClaimedRow>
    + Decodes<RecentRow>
    + Decodes<MinuteRow>
    + Decodes<FailingRow>
    + Decodes<PausedRow>
    + Decodes<StaleRow>
    + Decodes<(i64, i64)>
    + Decodes<AuditRow>
{
}

/// How many rows a statement changed: sqlx has it on each engine's result type, not on a
/// trait. Each engine implements it for its result in one line.
pub(crate) trait Affected {
    /// Rows inserted, updated or deleted.
    fn rows_affected(&self) -> u64;
}

/// The database can bind a `T` (that lives for `'t`) as a statement parameter.
pub(crate) trait Param<'t, T>: Database {
    /// Appends `value` to `arguments`.
    fn add(arguments: &mut Self::Arguments, value: T) -> Result<(), BoxDynError>;
}

impl<'t, D: Database, T> Param<'t, T> for D
where
    T: sqlx::Encode<'t, D> + sqlx::Type<D>,
{
    fn add(arguments: &mut Self::Arguments, value: T) -> Result<(), BoxDynError> {
        arguments.add(value)
    }
}

/// The database can decode an `O` from one of its rows.
pub(crate) trait Decodes<O>: Database {
    /// Decodes `row`.
    fn decode(row: &Self::Row) -> Result<O, sqlx::Error>;
}

impl<D: Database, O> Decodes<O> for D
where
    O: for<'r> FromRow<'r, D::Row>,
{
    fn decode(row: &Self::Row) -> Result<O, sqlx::Error> {
        O::from_row(row)
    }
}

/// Where a statement runs: on a connection the pool lends for it, in a transaction of its
/// own, or on a connection the caller holds (a transaction's, or one kept for several
/// statements).
pub(crate) enum On<'c, D: Database> {
    /// Any connection of the pool.
    Pool(&'c Pool<D>),
    /// Any connection of the pool, in a transaction of its own started by the given
    /// statement, as an unnamed (not persistent) statement: behind a transaction-mode pooler
    /// a named prepared statement outlives the transaction on a server session another
    /// client gets next, and only a transaction keeps the statement's parse, bind and
    /// execute on one server session (see `SqlEngine::statement_begin`).
    Tx(&'c Pool<D>, &'c str),
    /// This connection.
    Conn(&'c mut D::Connection),
    /// This connection, as an unnamed (not persistent) statement (see [`On::Tx`]).
    Unnamed(&'c mut D::Connection),
}

/// A connection the caller holds for several statements (a transaction's, or one lent by the
/// pool), and whether its statements must be unnamed (see [`On::Tx`]).
pub(crate) struct Held<'c, D: Database> {
    pub(crate) conn: &'c mut D::Connection,
    pub(crate) unnamed: bool,
}

impl<D: Database> Held<'_, D> {
    /// Where the next statement runs: on the held connection.
    pub(crate) fn on(&mut self) -> On<'_, D> {
        if self.unnamed {
            On::Unnamed(&mut *self.conn)
        } else {
            On::Conn(&mut *self.conn)
        }
    }
}

impl<'c, D: Database> From<&'c Pool<D>> for On<'c, D> {
    fn from(pool: &'c Pool<D>) -> Self {
        On::Pool(pool)
    }
}

/// Runs `run` on a connection of `pool` inside a transaction started by `begin`; commits.
async fn in_tx<D, T>(
    pool: &Pool<D>,
    begin: &str,
    run: impl for<'t> FnOnce(&'t mut D::Connection) -> BoxFuture<'t, sqlx::Result<T>>,
) -> sqlx::Result<T>
where
    D: Database,
{
    let mut tx = pool.begin_with(AssertSqlSafe(begin.to_owned())).await?;
    let answer = run(&mut tx).await?;
    tx.commit().await?;
    Ok(answer)
}

impl<'c, D: Database> From<&'c mut D::Connection> for On<'c, D> {
    fn from(conn: &'c mut D::Connection) -> Self {
        On::Conn(conn)
    }
}

/// A statement as sqlx runs it.
pub(crate) type Query<D> = sqlx::query::Query<'static, D, <D as Database>::Arguments>;

/// The database's connections and pools run statements.
pub(crate) trait Runs: Database {
    /// Runs `query`, returning what it changed.
    fn run(query: Query<Self>, on: On<'_, Self>) -> BoxFuture<'_, sqlx::Result<Self::QueryResult>>;
    /// Runs `query`, returning its first row, if any.
    fn row(query: Query<Self>, on: On<'_, Self>) -> BoxFuture<'_, sqlx::Result<Option<Self::Row>>>;
    /// Runs `query`, returning all its rows.
    fn rows(query: Query<Self>, on: On<'_, Self>) -> BoxFuture<'_, sqlx::Result<Vec<Self::Row>>>;
}

impl<D: Database + HasStatementCache> Runs for D
where
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    D::Arguments: IntoArguments<D>,
{
    fn run(query: Query<D>, on: On<'_, D>) -> BoxFuture<'_, sqlx::Result<D::QueryResult>> {
        match on {
            On::Pool(pool) => Box::pin(query.execute(pool)),
            On::Tx(pool, begin) => {
                let query = query.persistent(false);
                Box::pin(in_tx(pool, begin, |c| Box::pin(query.execute(c))))
            }
            On::Conn(conn) => Box::pin(query.execute(conn)),
            On::Unnamed(conn) => Box::pin(query.persistent(false).execute(conn)),
        }
    }

    fn row(query: Query<D>, on: On<'_, D>) -> BoxFuture<'_, sqlx::Result<Option<D::Row>>> {
        match on {
            On::Pool(pool) => Box::pin(query.fetch_optional(pool)),
            On::Tx(pool, begin) => {
                let query = query.persistent(false);
                Box::pin(in_tx(pool, begin, |c| Box::pin(query.fetch_optional(c))))
            }
            On::Conn(conn) => Box::pin(query.fetch_optional(conn)),
            On::Unnamed(conn) => Box::pin(query.persistent(false).fetch_optional(conn)),
        }
    }

    fn rows(query: Query<D>, on: On<'_, D>) -> BoxFuture<'_, sqlx::Result<Vec<D::Row>>> {
        match on {
            On::Pool(pool) => Box::pin(query.fetch_all(pool)),
            On::Tx(pool, begin) => {
                let query = query.persistent(false);
                Box::pin(in_tx(pool, begin, |c| Box::pin(query.fetch_all(c))))
            }
            On::Conn(conn) => Box::pin(query.fetch_all(conn)),
            On::Unnamed(conn) => Box::pin(query.persistent(false).fetch_all(conn)),
        }
    }
}
