//! Bad database input at the command line: an unknown URL scheme, an unreachable MySQL server,
//! wrong credentials on a real MariaDB server. Each is one line on stderr that names the URL
//! with its password redacted and says what is wrong, with a non-zero exit.

use std::process::Command;

use wasmcron_e2e::built::binary;
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};

const PASSWORD: &str = "s3cr3t-pw";

/// `wasmcron migrate --db url`: its exit status and stderr.
fn migrate(url: &str) -> (bool, String) {
    let out = Command::new(binary())
        .args(["migrate", "--db", url])
        .env_remove("WASMCRON_DB")
        .output()
        .expect("run wasmcron migrate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One line, naming `shown` (the URL as printed) and containing `what`; the password never.
fn assert_one_clear_line(url: &str, shown: &str, what: &str) {
    let (ok, stderr) = migrate(url);
    assert!(!ok, "{url} must fail; stderr:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line for {url}:\n{stderr}");
    assert!(
        lines[0].contains(shown) && lines[0].contains(what),
        "the line names {shown} and says {what:?}: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "the password leaked: {stderr}");
}

#[test]
fn an_unknown_scheme_lists_the_known_ones() {
    assert_one_clear_line(
        &format!("oracle://app:{PASSWORD}@db/x"),
        "oracle://app:***@db/x",
        "mysql://",
    );
}

#[test]
fn an_unreachable_mysql_server_is_named() {
    assert_one_clear_line(
        &format!("mysql://app:{PASSWORD}@127.0.0.1:1/x"),
        "mysql://app:***@127.0.0.1:1/x",
        "Connection refused",
    );
}

#[test]
fn wrong_mariadb_credentials_are_refused_and_nothing_is_created() {
    let server = MariaDbServer::start_with_options(MariaDbOptions {
        grant_tables: true,
        ..MariaDbOptions::default()
    })
    .unwrap();
    server.create_database("app").unwrap();
    let good = server.create_user("app", PASSWORD, "app").unwrap();
    let bad = good.replacen(PASSWORD, &format!("{PASSWORD}-wrong"), 1);
    let (ok, stderr) = migrate(&bad);
    assert!(!ok, "wrong credentials must fail; stderr:\n{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("mysql://app:***@") && stderr.contains("Access denied"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "the password leaked: {stderr}");
    let tables = server
        .sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'")
        .unwrap();
    assert_eq!(
        tables.trim().lines().last(),
        Some("0"),
        "nothing written: {tables}"
    );
    // The right credentials migrate.
    let (ok, stderr) = migrate(&good);
    assert!(ok, "{stderr}");
}
