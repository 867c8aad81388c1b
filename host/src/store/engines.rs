//! The engines this build speaks: the one list a new engine is added to.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::error::DatabaseError;

use super::driver::Driver;
use super::open::ConnectOptions;
use super::{mysql, postgres, sqlite};

/// Which database engine a [`Store`](super::Store) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite file (or memory).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
    /// MySQL (8.0+) or MariaDB (10.6+) server.
    Mysql,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        })
    }
}

/// Opens an engine's driver at a URL.
pub(crate) type Open =
    for<'a> fn(&'a str, &'a ConnectOptions) -> BoxFuture<'a, Result<Arc<dyn Driver>, sqlx::Error>>;

/// What the store needs to know of an engine before it has a driver.
#[derive(Debug)]
pub(crate) struct Engine {
    /// Which engine.
    pub backend: Backend,
    /// URL prefixes it opens.
    pub schemes: &'static [&'static str],
    /// Its URLs as an error message lists them.
    pub url_forms: &'static [&'static str],
    /// Connects and returns the driver.
    pub open: Open,
    /// `Some(true)` when a database error of this engine means "cannot serve now, try
    /// again", `Some(false)` for its other errors, `None` for another engine's error.
    pub unavailable: fn(&(dyn DatabaseError + 'static)) -> Option<bool>,
}

/// Every engine, in the order URLs are matched.
pub(crate) const ENGINES: &[Engine] = &[sqlite::ENGINE, postgres::ENGINE, mysql::ENGINE];

/// The engine that opens `url`.
pub(crate) fn for_url(url: &str) -> Option<&'static Engine> {
    ENGINES
        .iter()
        .find(|engine| engine.schemes.iter().any(|s| url.starts_with(s)))
}

/// Every engine's URL forms, for the message of an unsupported URL: `a, b, c or d`.
pub(crate) fn url_forms() -> String {
    let forms: Vec<&str> = ENGINES.iter().flat_map(|e| e.url_forms).copied().collect();
    match forms.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Whether a database error means "cannot serve now", asked of the engine it comes from.
pub(crate) fn is_unavailable(error: &(dyn DatabaseError + 'static)) -> bool {
    ENGINES
        .iter()
        .find_map(|engine| (engine.unavailable)(error))
        .unwrap_or(false)
}
