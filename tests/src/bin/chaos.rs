//! The chaos run: a real database, N replicas of the real binary, each reaching the database
//! through a TCP proxy of its own, and a loopback collector; jobs of the `reporter` plugin
//! fire every second and report each execution to the collector over `wasi:http`, while
//! faults chosen at random from one seed hit the cluster: processes killed, frozen,
//! restarted, the database restarted, clocks skewed, jobs changed, and the network between a
//! replica and the database blackholed, slowed or reset while both keep running. About one job
//! in five retries failed runs (3 attempts; none with `--no-retries`), and the collector fails
//! its first attempts. At the
//! end the run checks that no attempt of a tick ran twice, that every due tick is accounted
//! for, that the misfire policies held, that no replica's memory kept growing, that the jobs
//! are balanced over the replicas, that every accepted manual trigger ran and that retries kept
//! to their policy. See RELIABILITY.md.
//!
//! `cargo run --release -p wasmcron-e2e --bin chaos -- [--seed N] [--db postgres|mariadb|pgbouncer]
//! [--duration 120s] [--replicas 3] [--jobs 60] [--min-gap 2s] [--max-gap 8s]
//! [--faults all] [--first KINDS] [--out DIR] [--no-retries]`
//!
//! The binary under test is `$WASMCRON_BIN`, else `target/debug/wasmcron`. Plugins come from
//! `$WASMCRON_TEST_PLUGINS` (only `reporter.wasm` is used, from a private copy that the
//! plugin hot-swap fault rewrites). The seed is printed first; the same seed replays the same
//! faults against the same victims with the same durations. Before any replica starts, the
//! binary is asked to migrate the database through a proxy (`wasmcron migrate`); a binary
//! that does not speak the engine stops the run there with a message naming what it lacks.
//! Exits 1 when a check fails or the run cannot go on, 2 on bad arguments.

use wasmcron_e2e::chaos::{Settings, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let s = match Settings::from_args() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    println!("chaos: seed {}", s.seed);
    match run(s).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            println!("chaos: run aborted: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
