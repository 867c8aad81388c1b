//! The API's limits against the real binary: a short bootstrap token keeps a replica from
//! starting; unknown tokens are answered 429 after a few, counted, and logged with the client's
//! address but never the token presented.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmcron_e2e::built::{binary, plugins_dir};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

#[tokio::test]
async fn a_replica_refuses_a_short_bootstrap_token() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary())
        .arg("serve")
        .args([
            "--db",
            &format!("sqlite://{}", dir.path().join("db").display()),
        ])
        .args(["--plugins", plugins_dir().to_str().unwrap()])
        .args(["--cache-dir", dir.path().join("cache").to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0"])
        .env("WASMCRON_API_TOKEN", "short-secret-7")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the replica started with a 14-character bootstrap token");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "WASMCRON_API_TOKEN has 14 characters; the bootstrap token must have at least 32"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("short-secret-7"), "{stderr}");
}

#[tokio::test]
async fn unknown_tokens_are_slowed_down_counted_and_logged_without_the_token() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let admin = "limits-bootstrap-token-of-32-characters";
    let mut options = HostOptions::new(&db, "api-limits", &plugins_dir());
    options
        .env
        .push(("WASMCRON_API_TOKEN".into(), admin.into()));
    let host = Host::start(options).await;
    let guess = "a-guessed-token-that-must-never-be-logged";
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = host
            .request(Some(guess), "GET", "/api/v1/jobs", Value::Null)
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // The right token waits too until the block is over.
    let (status, _) = host
        .request(Some(admin), "GET", "/api/v1/jobs", Value::Null)
        .await;
    assert_eq!(status, 429);
    host.wait_for("the block to end", Duration::from_secs(5), || async {
        host.request(Some(admin), "GET", "/api/v1/jobs", Value::Null)
            .await
            .0
            == 200
    })
    .await;
    let (_, metrics) = host.request(None, "GET", "/metrics", Value::Null).await;
    assert!(
        metrics.contains("wasmcron_api_auth_failures_total 5\n"),
        "{metrics}"
    );
    // Two refusals above, and those of the wait for the block to end.
    let throttled: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("wasmcron_api_throttled_total{reason=\"auth\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(throttled >= 2, "{metrics}");
    let log = wasmcron_e2e::host::log::plain(&host.log());
    let warnings = log
        .lines()
        .filter(|l| l.contains("API request with an unknown or revoked bearer token"))
        .count();
    assert_eq!(warnings, 5, "{log}");
    assert!(log.contains("client=127.0.0.1"), "{log}");
    assert!(
        !log.contains(guess),
        "the presented token was logged:\n{log}"
    );
    assert!(
        !log.contains(admin),
        "the bootstrap token was logged:\n{log}"
    );
}
