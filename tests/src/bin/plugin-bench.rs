//! What a plugin costs in each language, measured in one run on the `hello` example built in
//! Rust, Python (componentize-py) and JavaScript (componentize-js): component size, compile
//! time and the compiler process's peak memory (`wasmcron plugin compile`), a real replica's
//! resident memory before, at peak and after loading all three from an empty compiled cache and
//! after running them, and the first and steady per-run cost (fresh store + instantiate + call
//! + drop, in process, from the warm cache).
//!
//! `cargo run --release -p wasmcron-e2e --bin plugin-bench -- [--build-times rust=S,python=S,js=S]`
//! with `WASMCRON_BIN` (a release build) and `WASMCRON_TEST_PLUGINS` set, as scripts/bench.sh
//! does; the build times are measured by the script around scripts/build-plugins.sh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmcron::runtime::{
    EngineOptions, LogLimits, MemoryJobHost, RunRequest, RunStatus, Runtime, Tick,
};
use wasmcron_e2e::built::{binary, plugins_dir};
use wasmcron_e2e::host::{Host, HostOptions, rss_kib};

/// Steady per-run cost: the median of this many runs.
const RUNS: usize = 200;

/// One language's example plugin.
struct Case {
    language: &'static str,
    name: &'static str,
    file: PathBuf,
}

fn cases() -> Vec<Case> {
    let dir = plugins_dir();
    vec![
        Case {
            language: "rust",
            name: "hello",
            file: dir.join("hello.wasm"),
        },
        Case {
            language: "python",
            name: "hello-py",
            file: dir.join("python/hello-py.wasm"),
        },
        Case {
            language: "js",
            name: "hello-js",
            file: dir.join("js/hello-js.wasm"),
        },
    ]
}

fn request(n: usize) -> RunRequest {
    RunRequest {
        tick: Tick {
            job_id: "bench".into(),
            job_name: "bench".into(),
            scheduled_at: n as i64 * 1000,
            attempt: 1,
            catch_up: false,
            instance_id: "bench".into(),
            input: "{\"name\":\"bench\"}".into(),
        },
        timeout: Duration::from_secs(30),
        memory_limit: 256 << 20,
        allowed_hosts: Vec::new(),
        job: Arc::new(MemoryJobHost::default()),
        log_limits: LogLimits::default(),
        redactor: Default::default(),
    }
}

/// `wasmcron plugin compile FILE --cache-dir DIR`: wall time and the child's peak memory.
fn compile(file: &Path, cache: &Path) -> (Duration, String) {
    let started = Instant::now();
    let out = std::process::Command::new(binary())
        .args(["plugin", "compile"])
        .arg(file)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("run wasmcron plugin compile");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let peak = text
        .rsplit_once("peak memory ")
        .map_or("?".to_string(), |(_, p)| p.trim().to_string());
    (elapsed, peak)
}

fn self_rss_mib() -> f64 {
    rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// First run and median steady run of `name`, in process, from the warm cache `cache`; and
/// what loading and running it added to this process's resident memory.
async fn per_run(case: &Case, cache: &Path) -> (Duration, Duration, f64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&case.file, dir.path().join(format!("{}.wasm", case.name))).unwrap();
    let before = self_rss_mib();
    let rt = Runtime::new(
        &EngineOptions::default(),
        dir.path().to_path_buf(),
        Some(cache),
    )
    .unwrap();
    rt.plugins.scan().await;
    let loaded = rt.plugins.get(case.name).expect("loaded from the cache");
    let started = Instant::now();
    let out = loaded.run(&rt.engine, request(0)).await;
    let first = started.elapsed();
    assert_eq!(out.status, RunStatus::Succeeded, "{out:?}");
    let mut samples = Vec::with_capacity(RUNS);
    for n in 1..=RUNS {
        let started = Instant::now();
        let out = loaded.run(&rt.engine, request(n)).await;
        samples.push(started.elapsed());
        assert_eq!(out.status, RunStatus::Succeeded, "{out:?}");
    }
    samples.sort();
    let added = self_rss_mib() - before;
    (first, samples[samples.len() / 2], added)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let build_times: BTreeMap<String, String> = args
        .iter()
        .position(|a| a == "--build-times")
        .and_then(|i| args.get(i + 1))
        .map(|s| {
            s.split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let cases = cases();
    let cache = tempfile::tempdir().unwrap();

    println!("## Plugins in Rust, Python and JavaScript (the `hello` example in each)");
    println!();
    println!(
        "| language | build s | size MB | compile s | compiler peak | first run ms | steady run ms (median of {RUNS}) | in-process RSS after load + runs |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in &cases {
        let size = std::fs::metadata(&case.file).unwrap().len() as f64 / 1e6;
        let (compile_time, peak) = compile(&case.file, cache.path());
        let (first, steady, added) = per_run(case, cache.path()).await;
        println!(
            "| {} | {} | {size:.2} | {:.2} | {peak} | {:.2} | {:.3} | +{added:.0} MiB |",
            case.language,
            build_times.get(case.language).map_or("-", String::as_str),
            compile_time.as_secs_f64(),
            ms(first),
            ms(steady),
        );
    }

    // A real replica (the release binary), from an empty compiled cache: the three plugins
    // arrive in its plugins directory together. Compiled in child processes, and as the
    // baseline in the replica itself (`--compile-in-process`, how every plugin was compiled
    // before).
    let child = replica(&cases, &[]).await;
    let baseline = replica(&cases, &["--compile-in-process"]).await;
    println!();
    println!(
        "One replica (release binary), the three plugins dropped into its plugins directory with an empty compiled cache:"
    );
    println!();
    println!(
        "| replica RSS, MiB | compiled in child processes | in the replica (baseline, `--compile-in-process`) |"
    );
    println!("|---|---|---|");
    let rows = [
        "idle, no plugin",
        "peak until the three are loaded",
        "steady, the three loaded",
        "after 5+ runs of each (one run a second each)",
        "peak over the whole run",
    ];
    for (i, row) in rows.iter().enumerate() {
        println!("| {row} | {:.0} | {:.0} |", child.rss[i], baseline.rss[i]);
    }
    println!(
        "| seconds until the three are loaded | {:.1} | {:.1} |",
        child.loaded_in.as_secs_f64(),
        baseline.loaded_in.as_secs_f64()
    );
}

/// What one replica's memory did: idle, peak until loaded, loaded, after runs, peak overall.
struct ReplicaFigures {
    rss: [f64; 5],
    loaded_in: Duration,
}

async fn replica(cases: &[Case], extra_args: &[&str]) -> ReplicaFigures {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let db = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let mut options = HostOptions::new(&db, "plugin-bench", &plugins);
    options.extra_args = extra_args.iter().map(|a| a.to_string()).collect();
    let host = Host::start(options).await;
    let pid = host.pid();
    let idle = rss_kib(pid).unwrap() as f64 / 1024.0;
    let started = Instant::now();
    for case in cases {
        let tmp = plugins.join(format!(".{}.tmp", case.name));
        std::fs::copy(&case.file, &tmp).unwrap();
        std::fs::rename(&tmp, plugins.join(format!("{}.wasm", case.name))).unwrap();
    }
    host.wait_for(
        "the three plugins loaded",
        Duration::from_secs(300),
        || async {
            let (_, list) = host.get("/api/v1/plugins").await;
            list.as_array()
                .unwrap()
                .iter()
                .filter(|p| p["digest"].is_string())
                .count()
                == cases.len()
        },
    )
    .await;
    let loaded_in = started.elapsed();
    let after_load = rss_kib(pid).unwrap() as f64 / 1024.0;
    let peak = peak_rss_mib(pid);
    for case in cases {
        let (status, body) = host
            .send(
                "POST",
                "/api/v1/jobs",
                json!({"name": case.name, "schedule": "* * * * * *", "plugin": case.name,
                       "input": {"name": "bench"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    for case in cases {
        host.wait_for("5 runs", Duration::from_secs(60), || async {
            host.runs(case.name)
                .await
                .iter()
                .filter(|r| r["status"] == "succeeded")
                .count()
                >= 5
        })
        .await;
    }
    let after_runs = rss_kib(pid).unwrap() as f64 / 1024.0;
    ReplicaFigures {
        rss: [idle, peak, after_load, after_runs, peak_rss_mib(pid)],
        loaded_in,
    }
}
