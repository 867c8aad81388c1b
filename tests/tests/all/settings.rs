//! Cluster settings and API tokens across real replicas on a real database server, PostgreSQL
//! and MariaDB alike (each test runs on both): a change made on one replica applies on the
//! others within a second (LISTEN/NOTIFY on PostgreSQL, the polled changes table on MariaDB),
//! a revoked token
//! is refused everywhere within a second, a change that was never announced still arrives
//! within the settings TTL, `scheduler.paused` stops ticks cluster-wide and resuming applies
//! the misfire policy, and a database error during a refresh keeps the last good values.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmcron::settings::SettingsCache;
use wasmcron::store::Store;
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::db::TestDb;
use wasmcron_e2e::host::Host;
use wasmcron_e2e::turns;
use wasmcron_e2e::wait::poll_until;

on_every_engine! {
    #[tokio::test]
    settings_and_token_revocations_reach_every_replica_within_a_second,
    without_notifications_replicas_converge_within_the_ttl,
    scheduler_paused_stops_ticks_cluster_wide_and_resuming_applies_the_misfire_policy,
    a_database_error_during_refresh_keeps_the_last_good_values,
}

const BOOTSTRAP: &str = "bootstrap-admin-secret-of-32-characters";

/// This replica's effective value of `key`, from its settings cache.
async fn effective(host: &Host, token: Option<&str>, key: &str) -> Value {
    let (status, body) = host
        .send_as(token, "GET", "/api/v1/settings/effective", Value::Null)
        .await;
    assert_eq!(status, 200, "{body}");
    body["settings"][key].clone()
}

/// How often a wait for a change on a replica looks: latencies are measured to about this.
const EVERY: Duration = Duration::from_millis(10);

async fn cluster_with_tokens(engine: Engine, ttl: &str) -> Cluster {
    let mut c = Cluster::on(engine, &["--settings-ttl", ttl]).await;
    for id in ["a", "b"] {
        let mut options = c.options(id);
        options
            .env
            .push(("WASMCRON_API_TOKEN".into(), BOOTSTRAP.into()));
        c.start_with(options).await;
    }
    c
}

async fn settings_and_token_revocations_reach_every_replica_within_a_second(engine: Engine) {
    let _turn = turns::alone().await;
    // A long TTL: only the notification can explain convergence within a second.
    let c = cluster_with_tokens(engine, "5m").await;
    let (a, b) = (c.host("a"), c.host("b"));
    let admin = Some(BOOTSTRAP);

    // A setting written on A applies on B.
    assert_eq!(effective(b, admin, "config.region").await, Value::Null);
    let started = Instant::now();
    let (status, body) = a
        .send_as(
            admin,
            "PUT",
            "/api/v1/settings/config.region",
            json!({"value": "eu"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    poll_until(
        "B applies config.region",
        Duration::from_secs(5),
        EVERY,
        || async { effective(b, admin, "config.region").await == "eu" },
        String::new,
    )
    .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "B applied the setting {took:?} after the write on A"
    );
    println!("setting applied on B {took:?} after the write on A");

    // Unsetting it too.
    let (status, _) = a
        .send_as(
            admin,
            "DELETE",
            "/api/v1/settings/config.region",
            Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    let took = poll_until(
        "B drops config.region",
        Duration::from_secs(5),
        EVERY,
        || async { effective(b, admin, "config.region").await.is_null() },
        String::new,
    )
    .await;
    assert!(
        took < Duration::from_secs(1),
        "B dropped the setting after {took:?}"
    );

    // A read token made on A works on B at once, reads everything, changes nothing.
    let (status, _) = a
        .send_as(
            admin,
            "PUT",
            "/api/v1/settings/metrics.token",
            json!({"value": "metrics-secret-0123456789"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, reader) = a
        .send_as(
            admin,
            "POST",
            "/api/v1/tokens",
            json!({"name": "dash", "role": "read"}),
        )
        .await;
    assert_eq!(status, 201, "{reader}");
    assert_eq!(
        (reader["name"].as_str(), reader["role"].as_str()),
        (Some("dash"), Some("read"))
    );
    assert_eq!(reader["created_by"], "bootstrap");
    let secret = reader["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("wcr_"), "{secret}");
    let read = Some(secret.as_str());
    // Every 150 ms: each try before the token reaches B is a failed token, and a client that
    // fails more than 5 times is slowed down (1 s); 150 ms keeps the first second free of that.
    let took = poll_until(
        "B accepts the new token",
        Duration::from_secs(5),
        Duration::from_millis(150),
        || async { b.send_as(read, "GET", "/api/v1/jobs", Value::Null).await.0 == 200 },
        String::new,
    )
    .await;
    assert!(
        took < Duration::from_secs(1),
        "B accepted the new token after {took:?}"
    );
    let (_, me) = b.send_as(read, "GET", "/api/v1/whoami", Value::Null).await;
    assert_eq!(
        me,
        json!({"auth_required": true, "name": "dash", "role": "read"})
    );
    let (status, body) = b
        .send_as(
            read,
            "POST",
            "/api/v1/jobs",
            json!({"name": "x", "schedule": "@hourly", "plugin": "hello"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _) = b
        .send_as(
            read,
            "PUT",
            "/api/v1/settings/config.x",
            json!({"value": "y"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = b.send_as(read, "GET", "/api/v1/tokens", Value::Null).await;
    assert_eq!(status, 403, "a read token may not list tokens");
    let (status, settings) = b
        .send_as(read, "GET", "/api/v1/settings", Value::Null)
        .await;
    assert_eq!(status, 200);
    assert_eq!(settings["metrics.token"], "********", "{settings}");
    let (_, settings) = b
        .send_as(admin, "GET", "/api/v1/settings", Value::Null)
        .await;
    assert_eq!(settings["metrics.token"], "metrics-secret-0123456789");

    // Names are checked; a second token of the same name is refused; the list has no secret.
    for (body, status_wanted, key, wanted) in [
        (
            json!({"name": "dash", "role": "admin"}),
            409,
            "code",
            "conflict",
        ),
        (
            json!({"name": "no spaces", "role": "read"}),
            400,
            "field",
            "name",
        ),
        (json!({"name": "ok", "role": "root"}), 400, "field", "role"),
    ] {
        let (status, answer) = a.send_as(admin, "POST", "/api/v1/tokens", body).await;
        assert_eq!(
            (status, answer["error"][key].as_str()),
            (status_wanted, Some(wanted)),
            "{answer}"
        );
    }
    let (status, list) = b.send_as(admin, "GET", "/api/v1/tokens", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "{list}");
    assert!(
        !list.to_string().contains(&secret),
        "the list shows a secret: {list}"
    );
    // The use is recorded in the background, right after the request that used it.
    poll_until(
        "the token's last use recorded",
        Duration::from_secs(5),
        EVERY,
        || async {
            let (_, list) = b.send_as(admin, "GET", "/api/v1/tokens", Value::Null).await;
            list["tokens"][0]["last_used_at"].is_string()
        },
        String::new,
    )
    .await;

    // An event stream opened with the token ends when it is revoked.
    let stream = reqwest::Client::new()
        .get(format!("{}/api/v1/events", b.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);

    // Revoked on A → refused on B within a second.
    let started = Instant::now();
    let (status, _) = a
        .send_as(admin, "DELETE", "/api/v1/tokens/dash", Value::Null)
        .await;
    assert_eq!(status, 204);
    let (status, _) = a.send_as(read, "GET", "/api/v1/jobs", Value::Null).await;
    assert_eq!(
        status, 401,
        "the revoking replica refuses the token at once"
    );
    poll_until(
        "B refuses the revoked token",
        Duration::from_secs(5),
        EVERY,
        || async { b.send_as(read, "GET", "/api/v1/jobs", Value::Null).await.0 == 401 },
        String::new,
    )
    .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "B refused the revoked token {took:?} after the revocation on A"
    );
    println!("revoked token refused on B {took:?} after the revocation on A");
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        let mut body = stream.bytes_stream();
        use futures::StreamExt;
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the revoked token's event stream is still open"
    );
    let (status, _) = a
        .send_as(admin, "DELETE", "/api/v1/tokens/dash", Value::Null)
        .await;
    assert_eq!(status, 404);
}

async fn without_notifications_replicas_converge_within_the_ttl(engine: Engine) {
    let _turn = turns::alone().await;
    let c = cluster_with_tokens(engine, "2s").await;
    let b = c.host("b");
    let admin = Some(BOOTSTRAP);
    let (status, made) = c
        .host("a")
        .send_as(
            admin,
            "POST",
            "/api/v1/tokens",
            json!({"name": "ci", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["token"].as_str().unwrap().to_string();
    poll_until(
        "B accepts the token",
        Duration::from_secs(5),
        EVERY,
        || async {
            b.send_as(Some(&secret), "GET", "/api/v1/jobs", Value::Null)
                .await
                .0
                == 200
        },
        String::new,
    )
    .await;

    // Written behind the replicas' backs: no notification; the TTL brings it.
    let started = Instant::now();
    // No column list: `key` is a reserved word in MySQL, quoted differently from PostgreSQL.
    c.pool
        .execute("INSERT INTO settings VALUES ('config.mode', '\"direct\"', 0)")
        .await
        .unwrap();
    c.pool
        .execute("DELETE FROM api_tokens WHERE name = 'ci'")
        .await
        .unwrap();
    poll_until(
        "B applies the unannounced setting",
        Duration::from_secs(10),
        EVERY,
        || async { effective(b, admin, "config.mode").await == "direct" },
        String::new,
    )
    .await;
    poll_until(
        "B refuses the token deleted in SQL",
        Duration::from_secs(10),
        EVERY,
        || async {
            b.send_as(Some(&secret), "GET", "/api/v1/jobs", Value::Null)
                .await
                .0
                == 401
        },
        String::new,
    )
    .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2000 + 500),
        "converged after {took:?}, beyond the 2 s TTL"
    );
    println!("without notifications: converged after {took:?} (TTL 2 s)");
}

async fn scheduler_paused_stops_ticks_cluster_wide_and_resuming_applies_the_misfire_policy(
    engine: Engine,
) {
    let _turn = turns::alone().await;
    let mut c = Cluster::on(engine, &["--settings-ttl", "5m"]).await;
    c.start("a").await;
    c.start("b").await;
    let collector = Collector::start().await;
    let ids = c
        .create_reporter_jobs("a", 6, "paused", &collector, json!({"misfire": "run_once"}))
        .await;
    c.wait_for(
        "both replicas run jobs",
        Duration::from_secs(20),
        || async {
            let executors: std::collections::HashSet<String> = collector
                .reports()
                .into_iter()
                .map(|r| r.instance_id)
                .collect();
            executors.len() == 2
        },
    )
    .await;

    let (a, b) = (c.host("a"), c.host("b"));
    let (status, _) = a
        .send_as(
            None,
            "PUT",
            "/api/v1/settings/scheduler.paused",
            json!({"value": true}),
        )
        .await;
    assert_eq!(status, 200);
    poll_until(
        "both replicas paused",
        Duration::from_secs(1),
        EVERY,
        || async {
            effective(a, None, "scheduler.paused").await == true
                && effective(b, None, "scheduler.paused").await == true
        },
        String::new,
    )
    .await;
    let paused_at = chrono::Utc::now().timestamp_millis();
    // Let ticks come due while paused (runs in flight at the switch may still finish).
    let seen = collector.reports().len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let resume_at = chrono::Utc::now().timestamp_millis();
    let during: Vec<_> = collector.reports()[seen..]
        .iter()
        .filter(|r| r.scheduled_at > paused_at + 1000)
        .cloned()
        .collect();
    assert!(during.is_empty(), "ticks ran while paused: {during:?}");

    // Resume through the other replica: each job runs its latest missed tick once
    // (catch-up) and records the others as missed.
    let (status, _) = b
        .send_as(
            None,
            "PUT",
            "/api/v1/settings/scheduler.paused",
            json!({"value": false}),
        )
        .await;
    assert_eq!(status, 200);
    c.wait_for(
        "a catch-up run of every job",
        Duration::from_secs(10),
        || async {
            let caught: std::collections::HashSet<String> = collector
                .reports()
                .into_iter()
                .filter(|r| r.catch_up && r.scheduled_at >= paused_at)
                .map(|r| r.job_id)
                .collect();
            ids.iter().all(|id| caught.contains(id))
        },
    )
    .await;
    collector.assert_no_duplicates();

    let runs = c.runs().await;
    let mut by_job: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for r in &runs {
        if r.scheduled_at_ms > paused_at + 1000 && r.scheduled_at_ms < resume_at - 1000 {
            by_job.entry(r.job_id.as_str()).or_default().push(r);
        }
    }
    for id in &ids {
        let gap = by_job.get(id.as_str()).cloned().unwrap_or_default();
        let missed = gap.iter().filter(|r| r.status == "missed").count();
        let caught = runs
            .iter()
            .filter(|r| r.job_id == *id && r.catch_up && r.scheduled_at_ms >= paused_at)
            .count();
        assert_eq!(
            caught, 1,
            "job {id}: one catch-up run for the pause: {runs:?}"
        );
        assert!(
            missed >= 1,
            "job {id}: the paused ticks are recorded missed: {gap:?}"
        );
        assert!(
            gap.iter().all(|r| r.status == "missed" || r.catch_up),
            "job {id}: a tick inside the pause ran normally: {gap:?}"
        );
        assert!(
            gap.iter()
                .filter(|r| r.status == "missed")
                .all(|r| r.reason.is_some()),
            "job {id}: a missed tick without its reason: {gap:?}"
        );
    }
}

async fn a_database_error_during_refresh_keeps_the_last_good_values(engine: Engine) {
    let _turn = turns::alone().await;
    // Its own server: the test stops it.
    let mut server = TestDb::start(engine, "settings").unwrap();
    let url = server.direct_url();
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
        .setting_put("scheduler.max_concurrent_runs", &json!(7))
        .await
        .unwrap();
    store
        .token_create(
            "ci",
            "read",
            &wasmcron::settings::tokens::hash_secret("wcr_x"),
            None,
        )
        .await
        .unwrap();
    let cache = SettingsCache::load(&store, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(cache.get().max_concurrent_runs, 7);
    assert_eq!(cache.tokens().len(), 1);

    server.stop().unwrap();
    let failed = cache.refresh(&store).await;
    assert!(failed.is_err(), "refresh succeeded with the database down");
    assert_eq!(
        cache.get().max_concurrent_runs,
        7,
        "a failed refresh changed the values"
    );
    assert_eq!(
        cache.tokens().len(),
        1,
        "a failed refresh dropped the tokens"
    );
    assert!(cache.tokens().identify("wcr_x", None).is_some());

    server.resume().unwrap();
    poll_until(
        "the database back (a setting written)",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async {
            store
                .setting_put("scheduler.max_concurrent_runs", &json!(9))
                .await
                .is_ok()
        },
        String::new,
    )
    .await;
    cache.refresh(&store).await.unwrap();
    assert_eq!(cache.get().max_concurrent_runs, 9);
}
