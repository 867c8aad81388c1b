//! The `wasmcron` command-line client against a running replica: add a job, see its runs,
//! pause, trigger, delete, JSON output, settings, and a clear message when nothing answers.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use wasmcron_e2e::built::{binary, plugins_dir};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;
use wasmcron_e2e::wait::poll_until;

/// Run the client against `server` (through `WASMCRON_SERVER`, as a user would set it).
fn cli(server: &str, args: &[&str]) -> Output {
    run_client(server, None, args)
}

/// Run the client, with a bearer token through `WASMCRON_TOKEN` when given.
fn run_client(server: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(binary());
    command.args(args).env("WASMCRON_SERVER", server);
    match token {
        Some(token) => command.env("WASMCRON_TOKEN", token),
        None => command.env_remove("WASMCRON_TOKEN"),
    };
    command.output().expect("run wasmcron")
}

/// How often a wait runs the client again.
const EVERY: Duration = Duration::from_millis(100);

fn ok(server: &str, args: &[&str]) -> String {
    succeeded(cli(server, args), args)
}

/// The standard output of a client run that must have succeeded.
fn succeeded(out: Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "wasmcron {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(server: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    serde_json::from_str(&ok(server, &all)).expect("JSON output")
}

#[tokio::test]
async fn the_cli_manages_jobs_on_a_running_server() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let host = Host::start(HostOptions::new(&db, "cli-client", &plugins_dir())).await;
    let server = host.base.clone();
    let s = server.as_str();

    let out = ok(
        s,
        &[
            "job",
            "add",
            "greeter",
            "--schedule",
            "@every 1s",
            "--plugin",
            "hello",
            "--input",
            r#"{"name":"cli"}"#,
            "--config",
            "greeting=Hey",
            "--timeout",
            "5s",
        ],
    );
    assert!(out.starts_with("job greeter created (id "), "{out}");
    let job = json(s, &["job", "get", "greeter"]);
    assert_eq!(job["schedule"], "@every 1s");
    assert_eq!(job["config"]["greeting"], "Hey");
    assert_eq!(job["timeout"], "5s");

    // Runs appear, in a table and as JSON.
    poll_until(
        "two runs",
        Duration::from_secs(20),
        EVERY,
        || async {
            json(s, &["job", "runs", "greeter"])
                .as_array()
                .unwrap()
                .len()
                >= 2
        },
        String::new,
    )
    .await;
    let table = ok(s, &["job", "runs", "greeter", "--limit", "2"]);
    let mut lines = table.lines();
    assert!(
        lines.next().unwrap().starts_with("ID  SCHEDULED"),
        "{table}"
    );
    assert!(
        table.contains("succeeded") && table.contains("Hey, cli!"),
        "{table}"
    );
    let runs = json(s, &["job", "runs", "greeter", "--status", "succeeded"]);
    assert!(runs[0]["result"].as_str().unwrap().contains("Hey, cli!"));

    // List (table and JSON), with a filter.
    let list = ok(s, &["job", "list"]);
    assert!(list.lines().next().unwrap().starts_with("NAME"), "{list}");
    assert!(
        list.contains("greeter") && list.contains("@every 1s"),
        "{list}"
    );
    assert_eq!(
        json(s, &["job", "list", "--plugin", "nope"]),
        Value::Array(vec![])
    );

    // Edit bumps the version; pause stops the ticks.
    let edited = json(
        s,
        &[
            "job",
            "edit",
            "greeter",
            "--jitter",
            "0s",
            "--overlap",
            "allow",
        ],
    );
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["overlap"], "allow");
    let out = ok(s, &["job", "pause", "greeter"]);
    assert!(out.contains("paused"), "{out}");
    assert_eq!(json(s, &["job", "get", "greeter"])["status"], "paused");
    let paused_runs = json(s, &["job", "runs", "greeter", "--limit", "1000"])
        .as_array()
        .unwrap()
        .len();

    // Trigger runs a paused job once, by hand.
    let out = ok(s, &["job", "trigger", "greeter"]);
    assert!(out.contains("triggered"), "{out}");
    poll_until(
        "the manual run",
        Duration::from_secs(10),
        EVERY,
        || async {
            json(s, &["job", "runs", "greeter", "--limit", "1000"])
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["manual"] == true && r["status"] == "succeeded")
        },
        String::new,
    )
    .await;
    let after = json(s, &["job", "runs", "greeter", "--limit", "1000"]);
    assert_eq!(after.as_array().unwrap().len(), paused_runs + 1);
    ok(s, &["job", "resume", "greeter"]);

    // Errors are one line, name the field, exit non-zero.
    let out = cli(
        s,
        &[
            "job",
            "add",
            "bad",
            "--schedule",
            "61 * * * *",
            "--plugin",
            "hello",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("(field: schedule)") && err.contains("400"),
        "{err}"
    );
    let out = cli(
        s,
        &[
            "job",
            "add",
            "greeter",
            "--schedule",
            "@hourly",
            "--plugin",
            "hello",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = cli(
        s,
        &[
            "job",
            "add",
            "ghost",
            "--schedule",
            "@hourly",
            "--plugin",
            "not-yet",
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: plugin \"not-yet\""));

    // Cluster views.
    let instances = json(s, &["instances"]);
    assert_eq!(instances[0]["id"], "cli-client");
    assert!(ok(s, &["instances"]).contains("cli-client"));
    assert!(ok(s, &["plugins"]).contains("hello"));
    assert!(
        json(s, &["plugins"])
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "hello")
    );
    assert_eq!(
        ok(s, &["settings", "set", "runs.retention", "3d"]).trim(),
        "runs.retention = \"3d\""
    );
    assert_eq!(
        json(s, &["settings", "get", "runs.retention"])["value"],
        "3d"
    );
    assert_eq!(json(s, &["settings", "get"])["runs.retention"], "3d");
    let out = cli(s, &["settings", "set", "no.such", "1"]);
    assert!(!out.status.success());

    // Events: the history from the start holds the job's creation.
    let events = ok(
        s,
        &[
            "events",
            "--after",
            "0",
            "--kind",
            "job.changed",
            "--count",
            "1",
        ],
    );
    assert!(
        events.contains("job.changed") && events.contains("job=greeter created"),
        "{events}"
    );

    // Delete.
    assert_eq!(json(s, &["job", "delete", "greeter"])["deleted"], "greeter");
    let out = cli(s, &["job", "get", "greeter"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
}

#[tokio::test]
async fn an_unreachable_server_is_named_in_one_clear_line() {
    let _turn = turns::beside_others().await;
    // A port bound (so no one else can take it) and not listening: connections are refused.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server = format!("http://{}", closed.local_addr().unwrap());
    for args in [&["job", "list"][..], &["instances"], &["events"]] {
        let out = cli(&server, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("error: cannot reach wasmcron at {server}: ")),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // --server wins over the environment.
    let out = Command::new(binary())
        .args(["job", "list", "--server", &server])
        .env("WASMCRON_SERVER", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&server));
}

/// Run the client with a bearer token.
fn cli_as(server: &str, token: &str, args: &[&str]) -> Output {
    run_client(server, Some(token), args)
}

fn ok_as(server: &str, token: &str, args: &[&str]) -> String {
    succeeded(cli_as(server, token, args), args)
}

#[tokio::test]
async fn the_cli_creates_lists_and_revokes_tokens() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let mut options = HostOptions::new(&db, "cli-tokens", &plugins_dir());
    options.env.push((
        "WASMCRON_API_TOKEN".into(),
        "cli-bootstrap-token-of-32-characters".into(),
    ));
    let host = Host::start(options).await;
    let s = host.base.as_str();
    let admin = "cli-bootstrap-token-of-32-characters";

    assert_eq!(
        ok_as(s, admin, &["token", "whoami"]).trim(),
        "bootstrap (admin)"
    );
    let out = ok_as(s, admin, &["token", "create", "reader", "--role", "read"]);
    assert!(out.starts_with("token reader (read) created"), "{out}");
    let secret = out.lines().nth(1).unwrap().trim().to_string();
    assert!(secret.starts_with("wcr_"), "{out}");
    assert_eq!(
        ok_as(s, &secret, &["token", "whoami"]).trim(),
        "reader (read)"
    );
    let list = ok_as(s, admin, &["token", "list"]);
    assert!(
        list.contains("reader") && list.contains("bootstrap"),
        "{list}"
    );
    assert!(!list.contains(&secret), "the list shows the secret: {list}");

    // The read token reads, and is refused a change with the reason.
    ok_as(s, &secret, &["job", "list"]);
    let out = cli_as(s, &secret, &["settings", "set", "config.x", "y"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read role"), "{err}");

    assert_eq!(
        ok_as(s, admin, &["token", "revoke", "reader"]).trim(),
        "token reader revoked"
    );
    let out = cli_as(s, &secret, &["job", "list"]);
    assert!(!out.status.success(), "a revoked token still works");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not valid"), "{err}");
}

/// `job add` with the failure-handling flags, `job get` showing them, `job runs` showing a
/// tick's attempts under it, and a bad value named like the API names it.
#[tokio::test]
async fn the_cli_sets_retries_and_shows_attempts_under_their_tick() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let host = Host::start(HostOptions::new(&db, "cli-retries", &plugins_dir())).await;
    let s = host.base.as_str();
    let add = |name: &'static str, attempts: &'static str| {
        cli(
            s,
            &[
                "job",
                "add",
                name,
                "--schedule",
                "@every 1h",
                "--plugin",
                "misbehave",
                "--input",
                r#"{"do":"panic"}"#,
                "--retry-attempts",
                attempts,
                "--retry-backoff",
                "1s",
                "--pause-after-failures",
                "5",
                "--stale-after",
                "1h",
            ],
        )
    };
    let out = add("refused", "0");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("retry.attempts"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    succeeded(add("flaky", "2"), &["job", "add", "flaky"]);
    let job = json(s, &["job", "get", "flaky"]);
    assert_eq!(
        job["retry"],
        serde_json::json!({"attempts": 2, "backoff": "1s", "max_backoff": "1h"})
    );
    assert_eq!(job["pause_after_failures"], 5);
    assert_eq!(job["stale_after"], "1h");
    assert!(ok(s, &["job", "get", "flaky"]).contains("2 attempts, backoff 1s up to 1h"));
    poll_until(
        "the job is held",
        Duration::from_secs(20),
        EVERY,
        || async { json(s, &["job", "get", "flaky"])["owner"] == "cli-retries" },
        String::new,
    )
    .await;
    ok(s, &["job", "trigger", "flaky"]);
    poll_until(
        "both attempts failed",
        Duration::from_secs(20),
        EVERY,
        || async {
            let runs = json(s, &["job", "runs", "flaky"]);
            let runs = runs.as_array().unwrap();
            runs.len() == 2 && runs.iter().all(|r| r["status"] == "failed")
        },
        || host.log(),
    )
    .await;
    let table = ok(s, &["job", "runs", "flaky"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("ATTEMPT"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    assert!(!lines[1].contains('└') && lines[2].contains('└'), "{table}");
}
