//! Sustained plugin runs per second on ONE replica with every run durably recorded (row written
//! before the plugin is called, finished after), on SQLite and on PostgreSQL, measured in the
//! same run. N jobs on `* * * * * *` run the `misbehave` test plugin's no-op action; the figure
//! is the number of runs recorded `succeeded` per second of scheduled time, plus the lateness
//! (row start − scheduled instant) of those runs.
//!
//! Run through `scripts/bench.sh` (it builds the release binary and sets `WASMCRON_BIN`), or
//! `WASMCRON_BIN=target/release/wasmcron cargo run --release -p wasmcron-e2e --bin replica-bench -- [--jobs N] [--seconds S]`.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Row;
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

struct Figures {
    runs_per_s: f64,
    due: i64,
    succeeded: i64,
    other: i64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn measure(db: &str, jobs: usize, seconds: i64) -> Figures {
    let plugins = plugins_dir();
    let options = HostOptions::new(db, "bench", &plugins);
    let host = Host::start(options).await;
    host.wait_for("ready", Duration::from_secs(30), || async {
        host.status_of("/readyz").await == Some(200)
    })
    .await;
    let setting = host
        .send(
            "PUT",
            "/api/v1/settings/scheduler.max_concurrent_runs",
            json!({"value": 512}),
        )
        .await;
    assert_eq!(setting.0, 200, "{:?}", setting.1);
    let started = Instant::now();
    for i in 0..jobs {
        let (status, body) = host
            .send(
                "POST",
                "/api/v1/jobs",
                json!({"name": format!("j{i}"), "schedule": "* * * * * *", "plugin": "misbehave",
                       "input": {"do": "ok"}, "overlap": "allow", "misfire": "skip"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    eprintln!(
        "created {jobs} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Warm up, then measure whole seconds of scheduled time.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let from = (now_ms() / 1000 + 1) * 1000;
    let to = from + seconds * 1000;
    tokio::time::sleep(Duration::from_millis((to - now_ms() + 3000).max(0) as u64)).await;
    let figures = count(db, from, to, jobs).await;
    drop(host);
    figures
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn count(db: &str, from: i64, to: i64, jobs: usize) -> Figures {
    let q_status = "SELECT status, count(*) AS n FROM runs WHERE scheduled_at_ms >= $1 AND scheduled_at_ms < $2 GROUP BY status";
    let q_late = "SELECT started_at_ms - scheduled_at_ms AS late FROM runs WHERE scheduled_at_ms >= $1 AND scheduled_at_ms < $2 AND status = 'succeeded'";
    let (rows, late): (Vec<(String, i64)>, Vec<i64>) = if db.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(db).await.unwrap();
        let rows = sqlx::query(q_status)
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .unwrap();
        let late = sqlx::query(q_late)
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .unwrap();
        (
            rows.iter()
                .map(|r| (r.get::<String, _>("status"), r.get::<i64, _>("n")))
                .collect(),
            late.iter().map(|r| r.get::<i64, _>("late")).collect(),
        )
    } else {
        let pool = sqlx::SqlitePool::connect(db).await.unwrap();
        let rows = sqlx::query(q_status)
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .unwrap();
        let late = sqlx::query(q_late)
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .unwrap();
        (
            rows.iter()
                .map(|r| (r.get::<String, _>("status"), r.get::<i64, _>("n")))
                .collect(),
            late.iter().map(|r| r.get::<i64, _>("late")).collect(),
        )
    };
    let succeeded = rows
        .iter()
        .filter(|(s, _)| s == "succeeded")
        .map(|(_, n)| *n)
        .sum::<i64>();
    let other = rows
        .iter()
        .filter(|(s, _)| s != "succeeded")
        .map(|(_, n)| *n)
        .sum::<i64>();
    let mut late = late;
    late.sort();
    let pick = |p: f64| {
        late.get(((late.len() as f64 * p) as usize).min(late.len().saturating_sub(1)))
            .copied()
            .unwrap_or(-1) as f64
    };
    Figures {
        runs_per_s: succeeded as f64 / ((to - from) as f64 / 1000.0),
        due: jobs as i64 * (to - from) / 1000,
        succeeded,
        other,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
    }
}

#[tokio::main]
async fn main() {
    if std::env::var_os("WASMCRON_BIN").is_none() {
        eprintln!(
            "set WASMCRON_BIN to a release build (scripts/bench.sh does): a debug build measures nothing useful"
        );
        std::process::exit(2);
    }
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: i64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let jobs = arg("--jobs", 5000) as usize;
    let seconds = arg("--seconds", 20);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    let server = PgServer::start_with(PgOptions {
        fsync: true,
        listen: Listen::Tcp,
        ..PgOptions::default()
    })
    .unwrap();
    let postgres = server.fresh_database().unwrap();
    println!("## one replica, {jobs} jobs on `* * * * * *` (no-op plugin), {seconds} s measured");
    println!("| database | due | succeeded | other | runs/s recorded | lateness p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|");
    for (name, db) in [
        ("SQLite (WAL, synchronous=NORMAL)", sqlite),
        ("PostgreSQL 15 (fsync on)", postgres),
    ] {
        let f = measure(&db, jobs, seconds).await;
        println!(
            "| {name} | {} | {} | {} | {:.0} | {:.0} | {:.0} |",
            f.due, f.succeeded, f.other, f.runs_per_s, f.p50_ms, f.p99_ms
        );
    }
}
