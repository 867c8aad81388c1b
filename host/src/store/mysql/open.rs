//! Opening a MySQL or MariaDB database: the server check, each connection's settings, the
//! migrations, and what the servers' error numbers mean.

use std::str::FromStr;
use std::time::Duration;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlPool, MySqlPoolOptions,
};
use sqlx::{AssertSqlSafe, Connection, Executor};

use super::MysqlDriver;
use crate::store::engines::{Backend, Engine};
use crate::store::error::StoreError;
use crate::store::open::ConnectOptions;
use crate::store::sql;

/// How the store knows MySQL and MariaDB.
pub(crate) const ENGINE: Engine = Engine {
    backend: Backend::Mysql,
    schemes: &["mysql://", "mariadb://"],
    url_forms: &["mysql://", "mariadb://"],
    open: sql::open::<MysqlDriver>,
    unavailable,
};

/// Schema migrations, embedded at build time.
pub(super) static MIGRATIONS: Migrator = sqlx::migrate!("migrations/mysql");

/// Which server speaks the protocol: they name their statement time limits differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    /// Oracle's MySQL (and its forks that report a MySQL version).
    Mysql,
    /// MariaDB.
    Mariadb,
}

/// What every connection of the store sets on itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Setup {
    flavour: Flavour,
    statement_timeout: Duration,
}

/// The server modes the store's SQL is written for, the defaults of MySQL 8.0, set on every
/// connection so that MariaDB (and a server configured otherwise) reads it the same way.
const SQL_MODE: &str = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,\
                        ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

impl Setup {
    /// Sets the connection up: the server modes, READ COMMITTED (as PostgreSQL: every
    /// statement sees what committed before it, and locking reads take no gap locks), and the
    /// time limits of a statement and of a row-lock wait.
    pub(super) async fn apply(&self, conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
        let seconds = self.statement_timeout.as_secs().max(1);
        let limit = match self.flavour {
            // Read-only SELECTs only, in milliseconds.
            Flavour::Mysql => format!("max_execution_time = {}", seconds * 1000),
            // Every statement, in seconds.
            Flavour::Mariadb => format!("max_statement_time = {seconds}"),
        };
        let set = format!(
            "SET SESSION sql_mode = '{SQL_MODE}', SESSION innodb_lock_wait_timeout = {seconds}, SESSION {limit}"
        );
        conn.execute(AssertSqlSafe(set)).await?;
        conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .await?;
        Ok(())
    }
}

/// Connects: checks the server on a first connection (so an unsupported one is refused before
/// anything is written), then opens the pool, every connection set up by [`Setup::apply`].
pub(super) async fn connect(
    url: &str,
    options: &ConnectOptions,
) -> Result<(MySqlPool, Setup), sqlx::Error> {
    // Instants never depend on the session's time zone (the clock is `UTC_TIMESTAMP`), but
    // UTC sessions make every other time the server shows UTC too.
    let connect = MySqlConnectOptions::from_str(url)?
        .timezone(Some("+00:00".to_owned()))
        .pipes_as_concat(false);
    let flavour = tokio::time::timeout(options.connect_timeout, check_server(&connect))
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {:?}", options.connect_timeout),
            ))
        })??;
    let setup = Setup {
        flavour,
        statement_timeout: options.statement_timeout,
    };
    let pool = MySqlPoolOptions::new()
        .max_connections(options.max_connections.unwrap_or(12))
        .acquire_timeout(options.connect_timeout)
        .after_connect(move |conn, _| Box::pin(async move { setup.apply(conn).await }))
        .connect_with(connect)
        .await?;
    Ok((pool, setup))
}

/// Connects once and refuses a server older than the store needs.
async fn check_server(connect: &MySqlConnectOptions) -> Result<Flavour, sqlx::Error> {
    let mut conn = MySqlConnection::connect_with(connect).await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut conn)
        .await?;
    let _ = conn.close().await;
    supported(&version).map_err(sqlx::Error::InvalidArgument)
}

/// The flavour of a server reporting `version`, or why the store cannot use it: it needs
/// `FOR UPDATE SKIP LOCKED` and `JSON_TABLE`, MySQL 8.0 and MariaDB 10.6.
pub(super) fn supported(version: &str) -> Result<Flavour, String> {
    // MariaDB before 11 may report itself as `5.5.5-10.x.y-MariaDB` for old clients.
    let reported = version.strip_prefix("5.5.5-").unwrap_or(version);
    let flavour = if reported.to_ascii_lowercase().contains("mariadb") {
        Flavour::Mariadb
    } else {
        Flavour::Mysql
    };
    let mut numbers = reported
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>());
    let (Some(Ok(major)), Some(Ok(minor))) = (numbers.next(), numbers.next()) else {
        return Err(format!(
            "cannot tell the server's version from \"{version}\"; wasmcron needs MySQL 8.0 or \
             later, or MariaDB 10.6 or later"
        ));
    };
    let (name, needed) = match flavour {
        Flavour::Mysql => ("MySQL", (8, 0)),
        Flavour::Mariadb => ("MariaDB", (10, 6)),
    };
    if (major, minor) < needed {
        return Err(format!(
            "the server is {name} {major}.{minor} (\"{version}\"); wasmcron needs {name} {}.{} \
             or later (FOR UPDATE SKIP LOCKED, JSON_TABLE)",
            needed.0, needed.1
        ));
    }
    Ok(flavour)
}

/// Applies the embedded migrations on a connection of their own, without the pool's
/// statement time limit (a migration may rewrite large tables).
pub(super) async fn migrate(driver: &MysqlDriver) -> Result<(), StoreError> {
    let mut conn = MySqlConnection::connect_with(&driver.pool.connect_options()).await?;
    let migrated = MIGRATIONS.run_direct(None, &mut conn, false).await;
    let _ = conn.close().await;
    migrated?;
    Ok(())
}

/// `Some(true)` for the error numbers that mean "cannot serve now, try again"; `None` for
/// another engine's error.
fn unavailable(error: &(dyn DatabaseError + 'static)) -> Option<bool> {
    let error = error.try_downcast_ref::<MySqlDatabaseError>()?;
    Some(is_unavailable(
        error.number(),
        error.code().unwrap_or_default(),
    ))
}

/// SQLSTATE class 08 (connection exception); 1040 too many connections, 1053 shutting down,
/// 1205 lock wait timeout, 1213 deadlock, 1290/1836 read-only (a failover in progress), 1317
/// query interrupted, 1927 connection killed, 1969 (MariaDB) and 3024 (MySQL) statement time
/// limit, 4031 disconnected by the server for inactivity.
fn is_unavailable(number: u16, sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || matches!(
            number,
            1040 | 1053 | 1205 | 1213 | 1290 | 1317 | 1836 | 1927 | 1969 | 3024 | 4031
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_servers_and_their_flavour() {
        for (version, flavour) in [
            ("8.0.36", Flavour::Mysql),
            ("8.0.36-0ubuntu0.22.04.1", Flavour::Mysql),
            ("8.4.3", Flavour::Mysql),
            ("9.1.0-commercial", Flavour::Mysql),
            ("8.0.36-28", Flavour::Mysql), // Percona Server
            ("10.6.0-MariaDB", Flavour::Mariadb),
            ("10.11.19-MariaDB-0+deb12u1", Flavour::Mariadb),
            ("5.5.5-10.11.6-MariaDB-log", Flavour::Mariadb),
            ("11.4.2-MariaDB-ubu2404", Flavour::Mariadb),
        ] {
            assert_eq!(supported(version), Ok(flavour), "{version}");
        }
    }

    #[test]
    fn old_or_unknown_servers_are_refused_with_what_is_needed() {
        let old = supported("5.7.44-log").unwrap_err();
        assert_eq!(
            old,
            "the server is MySQL 5.7 (\"5.7.44-log\"); wasmcron needs MySQL 8.0 or later \
             (FOR UPDATE SKIP LOCKED, JSON_TABLE)"
        );
        for version in [
            "10.5.23-MariaDB",
            "5.5.5-10.3.39-MariaDB-0+deb10u1",
            "10.4.0-MariaDB",
        ] {
            let refused = supported(version).unwrap_err();
            assert!(refused.contains("needs MariaDB 10.6 or later"), "{refused}");
        }
        assert!(supported("6.0.0").unwrap_err().contains("needs MySQL 8.0"));
        let unknown = supported("unknown").unwrap_err();
        assert!(
            unknown.starts_with("cannot tell the server's version"),
            "{unknown}"
        );
    }

    #[test]
    fn deadlocks_timeouts_and_lost_connections_are_unavailable() {
        assert!(is_unavailable(1213, "40001"));
        assert!(is_unavailable(1205, "HY000"));
        assert!(is_unavailable(2013, "08S01"));
        assert!(is_unavailable(1969, "70100"));
        assert!(
            !is_unavailable(1062, "23000"),
            "a duplicate key is an answer"
        );
        assert!(
            !is_unavailable(1045, "28000"),
            "wrong credentials stay wrong"
        );
    }
}
