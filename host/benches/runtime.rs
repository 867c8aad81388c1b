//! Plugin runtime figures: fresh-store instantiate + call + drop (pooling vs on-demand, in the
//! same run), and cold load of plugins with vs without the compiled-artifact cache.
//!
//! `cargo bench -p wasmcron --bench runtime` (add `-- --plugins DIR` to also measure the
//! example plugins built by scripts/build-plugins.sh).

// The integration tests' fixtures; this bench uses one of them, the tests the others.
#[path = "../tests/all/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmcron::runtime::{
    EngineOptions, LogLimits, MemoryJobHost, RunRequest, RunStatus, Runtime, Tick,
};

const ITERATIONS: usize = 20_000;

fn request() -> RunRequest {
    RunRequest {
        tick: Tick {
            job_id: "bench".into(),
            job_name: "bench".into(),
            scheduled_at: 0,
            attempt: 1,
            catch_up: false,
            instance_id: "bench".into(),
            input: "{\"name\":\"bench\"}".into(),
        },
        timeout: Duration::from_secs(10),
        memory_limit: 64 << 20,
        allowed_hosts: Vec::new(),
        job: Arc::new(MemoryJobHost::default()),
        log_limits: LogLimits::default(),
        redactor: Default::default(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}

async fn per_run(dir: &Path, plugin: &str, pooling: bool) -> (Duration, Duration) {
    let rt = Runtime::new(
        &EngineOptions {
            pooling,
            ..EngineOptions::default()
        },
        dir.to_path_buf(),
        None,
    )
    .unwrap();
    rt.plugins.scan().await;
    let loaded = rt.plugins.get(plugin).unwrap();
    for _ in 0..1000 {
        let out = loaded.run(&rt.engine, request()).await;
        assert_eq!(out.status, RunStatus::Succeeded, "{out:?}");
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let req = request();
        let t = Instant::now();
        let out = loaded.run(&rt.engine, req).await;
        samples.push(t.elapsed());
        debug_assert_eq!(out.status, RunStatus::Succeeded);
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

async fn cold_load(dir: &Path, cache: Option<&Path>) -> Duration {
    let t = Instant::now();
    let rt = Runtime::new(&EngineOptions::default(), dir.to_path_buf(), cache).unwrap();
    rt.plugins.scan().await;
    assert!(rt.plugins.list().iter().all(|p| p.error.is_none()));
    t.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let extra = args
        .iter()
        .position(|a| a == "--plugins")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trivial.wasm"), support::ok_plugin()).unwrap();
    let mut cases = vec![(dir.path().to_path_buf(), "trivial".to_string())];
    if let Some(extra) = &extra {
        let hello = tempfile::tempdir().unwrap().keep();
        std::fs::copy(extra.join("hello.wasm"), hello.join("hello.wasm")).unwrap();
        cases.push((hello, "hello".to_string()));
    }

    println!("## fresh Store + instantiate + call + drop ({ITERATIONS} runs each)");
    println!("| plugin | allocator | median µs | p99 µs |");
    println!("|---|---|---|---|");
    for (path, name) in &cases {
        let (on_med, on_p99) = per_run(path, name, false).await;
        let (po_med, po_p99) = per_run(path, name, true).await;
        println!(
            "| {name} | on-demand (baseline) | {:.1} | {:.1} |",
            us(on_med),
            us(on_p99)
        );
        println!(
            "| {name} | pooling | {:.1} | {:.1} |  ({:.2}x faster median)",
            us(po_med),
            us(po_p99),
            us(on_med) / us(po_med)
        );
    }

    if let Some(extra) = &extra {
        println!();
        println!("## cold load of every plugin in {}", extra.display());
        let cache = tempfile::tempdir().unwrap();
        let without = cold_load(extra, None).await;
        let _warm = cold_load(extra, Some(cache.path())).await; // fills the cache
        let with = cold_load(extra, Some(cache.path())).await;
        println!("| compiled cache | load ms |");
        println!("|---|---|");
        println!(
            "| without (baseline: compile) | {:.1} |",
            without.as_secs_f64() * 1000.0
        );
        println!(
            "| with (deserialize) | {:.1} | ({:.1}x faster)",
            with.as_secs_f64() * 1000.0,
            without.as_secs_f64() / with.as_secs_f64()
        );
    }
}
