//! The short chaos runs (about two minutes each): the `chaos` binary of this crate against the
//! wasmcron binary under test on PostgreSQL and on MariaDB (behind PgBouncer: a run of the
//! `chaos` binary with `--db pgbouncer`, see RELIABILITY.md), with a seed derived from the time (printed first,
//! so a failure can be replayed with `cargo run -p wasmcron-e2e --bin chaos -- --seed N`).
//! Every kind of fault may come; the network faults (blackhole, latency, reset) come first,
//! so that each run has them. About one job in five retries its failed runs (the collector
//! fails their first attempts on purpose), as in every run of the `chaos` binary.
//!
//! `WASMCRON_CHAOS_SEED` fixes the seed; `WASMCRON_CHAOS_DURATION` changes how long faults are
//! injected (default 75s; setup and the checks take about 40 s more).

use std::process::Command;

use wasmcron_e2e::turns;

#[test]
fn on_postgres_a_short_chaos_run_loses_and_doubles_no_tick() {
    short_run("postgres");
}

#[test]
fn on_mariadb_a_short_chaos_run_loses_and_doubles_no_tick() {
    short_run("mariadb");
}

fn short_run(db: &str) {
    let _turn = turns::alone_blocking();
    let seed = std::env::var("WASMCRON_CHAOS_SEED").unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        (nanos % 1_000_000_000).to_string()
    });
    let duration = std::env::var("WASMCRON_CHAOS_DURATION").unwrap_or_else(|_| "75s".into());
    let out = std::env::temp_dir().join(format!("chaos-{db}-{seed}"));
    eprintln!("chaos seed {seed} on {db}; logs in {}", out.display());
    let status = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["--seed", &seed, "--db", db, "--duration", &duration])
        .args(["--first", "network"])
        .args(["--replicas", "3", "--jobs", "60"])
        .args(["--min-gap", "2s", "--max-gap", "5s"])
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run the chaos binary");
    if !status.success() {
        // The failed checks and their first violations again, here at the end of the test
        // output, where a log cut to its tail still shows them.
        let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap_or_default();
        let failed: Vec<&str> = summary
            .lines()
            .filter(|l| l.contains(": FAIL") || l.contains("VIOLATION"))
            .take(12)
            .collect();
        panic!(
            "the chaos run on {db} with seed {seed} failed ({status}); logs in {}; \
             what failed:\n{}",
            out.display(),
            failed.join("\n")
        );
    }
}
