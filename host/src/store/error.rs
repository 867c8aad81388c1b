//! Errors of the storage layer.

use std::time::Duration;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL \"{0}\": expected {forms}", forms = super::engines::url_forms())]
    UnsupportedUrl(String),
    /// The database could not be opened or reached at startup.
    #[error("cannot open database \"{url}\": {source}")]
    Open {
        /// The URL with any password replaced by `***`.
        url: String,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
    },
    /// A connection-level failure: the database is down, unreachable or overloaded.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The store (or a writer in front of it) was shut down.
    #[error("database handle closed")]
    Closed,
    /// A store call did not finish in time.
    #[error("database unavailable: no answer within {0:?}")]
    TimedOut(Duration),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was migrated by a newer wasmcron.
    #[error(
        "database schema version {found} is newer than this wasmcron knows ({known}); upgrade wasmcron"
    )]
    SchemaTooNew {
        /// Newest applied schema version.
        found: i64,
        /// Newest schema version this binary embeds.
        known: i64,
    },
    /// Another job already has this name.
    #[error("a job named \"{0}\" already exists")]
    DuplicateName(String),
    /// No job has this id (or name).
    #[error("job \"{0}\" not found")]
    JobNotFound(String),
    /// The job was edited since the caller read it.
    #[error("job \"{id}\" was changed concurrently: expected version {expected}, found {found}")]
    VersionConflict {
        /// Job id.
        id: String,
        /// Version the caller based its edit on.
        expected: i64,
        /// Version in the database.
        found: i64,
    },
    /// The caller passed a value the store refuses (for example finishing a run as `running`).
    #[error("invalid store input: {0}")]
    InvalidInput(String),
    /// A stored value could not be decoded.
    #[error("corrupt {what} in the database: {detail}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why it could not be decoded.
        detail: String,
    },
}

impl StoreError {
    /// What to do about this error, where the store can tell more than the error itself
    /// (e.g. that the server looks like a transaction pooler the store was not told about).
    pub fn hint(&self) -> Option<&'static str> {
        super::postgres::pooler_hint(self)
    }

    /// True for connection-level and transient failures worth retrying with backoff (database
    /// down, unreachable, restarting, overloaded, locked, or a deadlock/serialization abort),
    /// false for errors that a retry repeats.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::TimedOut(_) | StoreError::Closed => true,
            StoreError::Open { source, .. } => is_connection_level(source),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(source)) => {
                is_connection_level(source)
            }
            _ => false,
        }
    }
}

/// Classifies a driver error: connection-level failures become [`StoreError::Unavailable`],
/// everything else [`StoreError::Database`].
pub(crate) fn classify(error: sqlx::Error) -> StoreError {
    if is_connection_level(&error) {
        StoreError::Unavailable(error)
    } else {
        StoreError::Database(error)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        classify(error)
    }
}

/// True when `error` says the database could not be reached or cannot serve right now; what
/// a database error means is asked of the engine it comes from.
pub(crate) fn is_connection_level(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => super::engines::is_unavailable(db.as_ref()),
        _ => false,
    }
}

/// Turns a unique-key violation (on `jobs.name`) into [`StoreError::DuplicateName`].
pub(crate) fn name_conflict(error: sqlx::Error, name: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::DuplicateName(name.to_owned())
        }
        _ => error.into(),
    }
}

/// `url` with its password replaced by `***`, for error messages and logs: the password of the
/// authority (`scheme://user:password@host`, the last `@` before the path) and any
/// `password`/`sslpassword` query parameter (which sqlx also accepts). Everything else is kept.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = query
                .split_once('#')
                .map_or((query, None), |(q, f)| (q, Some(f)));
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if key.eq_ignore_ascii_case("password")
                            || key.eq_ignore_ascii_case("sslpassword") =>
                    {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
            format!("{path}?{}{fragment}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_url_lists_every_engine() {
        assert_eq!(
            StoreError::UnsupportedUrl("oracle://h/db".into()).to_string(),
            "unsupported database URL \"oracle://h/db\": expected sqlite://PATH, sqlite::memory:, \
             postgres://, postgresql://, mysql:// or mariadb://"
        );
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn redacts_only_the_authority_password_and_password_parameters() {
        // An `@` in the query string is not the end of the user info.
        assert_eq!(
            redact_url("postgres://u:pw@h/db?application_name=a@b"),
            "postgres://u:***@h/db?application_name=a@b"
        );
        assert_eq!(
            redact_url("mysql://h:3306/db?user=u&password=secret&ssl-mode=required"),
            "mysql://h:3306/db?user=u&password=***&ssl-mode=required"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
