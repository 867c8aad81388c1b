//! The plugin runtime with real components: sandbox limits, bad plugins, hot reload, the
//! compiled cache. Fixtures are built from WAT at test time; the sandbox-escape attempts use the
//! `misbehave` test plugin built from Rust by `scripts/build-plugins.sh`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmcron::runtime::{
    EngineOptions, HostPattern, LogLimits, MemoryJobHost, RunOutcome, RunRequest, RunStatus,
    Runtime, Tick,
};

use crate::support;

fn tick(input: &str) -> Tick {
    Tick {
        job_id: "job-1".into(),
        job_name: "test-job".into(),
        scheduled_at: 1_700_000_000_000,
        attempt: 1,
        catch_up: false,
        instance_id: "test".into(),
        input: input.into(),
    }
}

fn request(input: &str, timeout: Duration, memory: u64, allowed: &[&str]) -> RunRequest {
    RunRequest {
        tick: tick(input),
        timeout,
        memory_limit: memory,
        allowed_hosts: allowed
            .iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .collect(),
        job: Arc::new(MemoryJobHost::default()),
        log_limits: LogLimits::default(),
        redactor: Default::default(),
    }
}

fn runtime_with(dir: &Path, cache: Option<&Path>) -> Runtime {
    Runtime::new(&EngineOptions::default(), dir.to_path_buf(), cache).expect("runtime")
}

async fn run(rt: &Runtime, plugin: &str, req: RunRequest) -> RunOutcome {
    rt.run(plugin, req).await.1
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Replace a file atomically, as deployment tools do.
fn replace(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[tokio::test]
async fn ok_and_err_results_are_reported() {
    let _turn = support::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.wasm", &support::ok_plugin());
    write(dir.path(), "err.wasm", &support::err_plugin());
    let rt = runtime_with(dir.path(), None);
    rt.plugins.scan().await;
    let ok = run(
        &rt,
        "ok",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(ok.status, RunStatus::Succeeded, "{ok:?}");
    assert_eq!(ok.result.as_deref(), Some("ok"));
    let err = run(
        &rt,
        "err",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(err.status, RunStatus::Failed);
    assert_eq!(err.error.as_deref(), Some("boom"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_within_timeout_plus_100ms_and_others_keep_running() {
    let _turn = support::alone().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "loop.wasm", &support::loop_plugin());
    write(dir.path(), "ok.wasm", &support::ok_plugin());
    let rt = runtime_with(dir.path(), None);
    rt.plugins.scan().await;
    let timeout = Duration::from_millis(300);
    let rt2 = rt.clone();
    let looping = tokio::spawn(async move {
        let started = Instant::now();
        let outcome = run(&rt2, "loop", request("null", timeout, 64 << 20, &[])).await;
        (outcome, started.elapsed())
    });
    // While it spins, other runs complete.
    for _ in 0..20 {
        let ok = run(
            &rt,
            "ok",
            request("null", Duration::from_secs(5), 64 << 20, &[]),
        )
        .await;
        assert_eq!(ok.status, RunStatus::Succeeded);
    }
    let (outcome, elapsed) = looping.await.unwrap();
    assert_eq!(outcome.status, RunStatus::TimedOut, "{outcome:?}");
    assert!(elapsed >= timeout, "stopped early: {elapsed:?}");
    assert!(
        elapsed <= timeout + Duration::from_millis(100),
        "stopped late: {elapsed:?}"
    );
    assert_eq!(outcome.error.as_deref(), Some("timed out after 300ms"));
}

#[tokio::test]
async fn growing_memory_past_the_limit_fails_the_run_not_the_host() {
    let _turn = support::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "grow.wasm", &support::grow_plugin());
    write(dir.path(), "ok.wasm", &support::ok_plugin());
    let rt = runtime_with(dir.path(), None);
    rt.plugins.scan().await;
    let outcome = run(
        &rt,
        "grow",
        request("null", Duration::from_secs(5), 4 << 20, &[]),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(error.starts_with("memory limit exceeded"), "{error}");
    let ok = run(
        &rt,
        "ok",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(ok.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn bad_plugins_are_listed_with_their_error_and_fail_their_runs() {
    let _turn = support::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "text.wasm", b"this is not wasm at all");
    write(
        dir.path(),
        "core.wasm",
        &wat::parse_str("(module)").unwrap(),
    );
    write(
        dir.path(),
        "other.wasm",
        &wat::parse_str("(component)").unwrap(),
    );
    write(dir.path(), "trap.wasm", &support::trap_at_start_plugin());
    write(dir.path(), "ok.wasm", &support::ok_plugin());
    // Old enough that the loader does not wait for a writer to finish.
    for name in ["text", "core", "other"] {
        let f = std::fs::File::options()
            .write(true)
            .open(dir.path().join(format!("{name}.wasm")))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
            .unwrap();
    }
    let rt = runtime_with(dir.path(), None);
    rt.plugins.scan().await;
    let list = rt.plugins.list();
    let error = |name: &str| {
        list.iter()
            .find(|p| p.name == name)
            .and_then(|p| p.error.clone())
    };
    assert_eq!(
        error("text").as_deref(),
        Some("not a WebAssembly file (no \\0asm header)")
    );
    assert!(
        error("core")
            .unwrap()
            .contains("a core WebAssembly module, not a component")
    );
    let other = error("other").unwrap();
    assert!(
        other.contains("does not implement the wasmcron:plugin/job world"),
        "{other}"
    );
    assert_eq!(error("ok"), None);

    let failed = run(
        &rt,
        "other",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.unwrap().contains("failed to load"));
    let trapped = run(
        &rt,
        "trap",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(trapped.status, RunStatus::Failed);
    assert!(trapped.error.unwrap().starts_with("plugin trapped"));
    let missing = run(
        &rt,
        "nope",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(
        missing.error.as_deref(),
        Some("plugin \"nope\" is not in the plugins directory")
    );
    let ok = run(
        &rt,
        "ok",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(ok.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn replaced_files_take_effect_and_partial_writes_keep_the_good_version() {
    let _turn = support::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.wasm", &support::ok_plugin());
    let rt = runtime_with(dir.path(), None);
    rt.plugins.scan().await;
    let first = rt.plugins.get("p").unwrap();

    replace(dir.path(), "p.wasm", &support::err_plugin());
    rt.plugins.scan().await;
    let second = rt.plugins.get("p").unwrap();
    assert_ne!(first.digest, second.digest);
    // A run that holds the old version still runs it.
    let old = first
        .run(
            &rt.engine,
            request("null", Duration::from_secs(5), 64 << 20, &[]),
        )
        .await;
    assert_eq!(old.result.as_deref(), Some("ok"));

    // Half a file (a copy in progress): the good version stays.
    let good = support::ok_plugin();
    write(dir.path(), "p.wasm", &good[..good.len() / 2]);
    rt.plugins.scan().await;
    assert_eq!(rt.plugins.get("p").unwrap().digest, second.digest);
    write(dir.path(), "p.wasm", &good);
    rt.plugins.scan().await;
    assert_eq!(rt.plugins.get("p").unwrap().digest, first.digest);

    // Editors' temp files are ignored; removal takes effect.
    write(dir.path(), ".p.wasm.swp", b"junk");
    write(dir.path(), "p.wasm~", b"junk");
    std::fs::remove_file(dir.path().join("p.wasm")).unwrap();
    rt.plugins.scan().await;
    assert!(rt.plugins.list().is_empty(), "{:?}", rt.plugins.list());
}

#[cfg(unix)]
#[tokio::test]
async fn configmap_style_symlink_swaps_are_followed() {
    let _turn = support::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("..2026_01")).unwrap();
    std::fs::write(d.join("..2026_01/job.wasm"), support::ok_plugin()).unwrap();
    std::os::unix::fs::symlink("..2026_01", d.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/job.wasm", d.join("job.wasm")).unwrap();
    let rt = runtime_with(d, None);
    rt.plugins.scan().await;
    let before = rt.plugins.get("job").unwrap().digest.clone();
    // Kubernetes writes a new timestamped dir and swaps ..data atomically.
    std::fs::create_dir(d.join("..2026_02")).unwrap();
    std::fs::write(d.join("..2026_02/job.wasm"), support::err_plugin()).unwrap();
    std::os::unix::fs::symlink("..2026_02", d.join("..data_tmp")).unwrap();
    std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
    rt.plugins.scan().await;
    assert_ne!(rt.plugins.get("job").unwrap().digest, before);
    assert_eq!(rt.plugins.list().len(), 1);
}

#[tokio::test]
async fn the_compiled_cache_is_reused_and_a_corrupt_entry_is_a_miss() {
    let _turn = support::beside_others().await;
    let plugins = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write(plugins.path(), "ok.wasm", &support::ok_plugin());
    let rt = runtime_with(plugins.path(), Some(cache.path()));
    rt.plugins.scan().await;
    let mut entries: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    entries.sort();
    assert_eq!(
        entries.len(),
        2,
        "one artifact and its checksum: {entries:?}"
    );
    assert_eq!(format!("{}.sha256", entries[0]), entries[1]);
    let artifact = cache.path().join(&entries[0]);
    // The runtime maps the entry: let it go before the file is changed in place.
    drop(rt);

    // Corrupt it: the next load compiles afresh (and rewrites it) instead of failing.
    let mut bytes = std::fs::read(&artifact).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&artifact, &bytes).unwrap();
    let rt2 = runtime_with(plugins.path(), Some(cache.path()));
    rt2.plugins.scan().await;
    let ok = run(
        &rt2,
        "ok",
        request("null", Duration::from_secs(5), 64 << 20, &[]),
    )
    .await;
    assert_eq!(ok.status, RunStatus::Succeeded);
    assert_ne!(std::fs::read(&artifact).unwrap(), bytes, "entry rewritten");
}

mod sandbox {
    //! The `misbehave` plugin (Rust, wasm32-wasip2) tries to leave the sandbox.
    use super::*;

    async fn misbehave(input: &str, allowed: &[&str]) -> RunOutcome {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            support::built_plugin("misbehave"),
            dir.path().join("misbehave.wasm"),
        )
        .unwrap();
        let rt = runtime_with(dir.path(), None);
        rt.plugins.scan().await;
        run(
            &rt,
            "misbehave",
            request(input, Duration::from_secs(10), 64 << 20, allowed),
        )
        .await
    }

    #[tokio::test]
    async fn reading_etc_passwd_is_denied() {
        let _turn = support::beside_others().await;
        let out = misbehave(r#"{"do":"read-file"}"#, &[]).await;
        assert_eq!(out.status, RunStatus::Failed, "{out:?}");
        assert!(
            !out.error.as_deref().unwrap_or("").contains("root:"),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn the_environment_is_empty() {
        let _turn = support::beside_others().await;
        let out = misbehave(r#"{"do":"env"}"#, &[]).await;
        let text = format!("{:?}{:?}", out.result, out.error);
        assert!(text.contains('0'), "{out:?}");
        assert!(!text.contains("PATH"), "{out:?}");
    }

    #[tokio::test]
    async fn http_to_a_host_not_allowed_is_denied_with_a_clear_error() {
        let _turn = support::beside_others().await;
        let out = misbehave(
            r#"{"do":"http","url":"http://127.0.0.1:9/"}"#,
            &["example.com"],
        )
        .await;
        assert_eq!(out.status, RunStatus::Failed, "{out:?}");
        assert!(
            out.logs.contains("outbound HTTP to 127.0.0.1:9 denied: not in this job's allowed_hosts (allowed: example.com)"),
            "{}",
            out.logs
        );
        assert!(out.error.unwrap().to_lowercase().contains("denied"));
    }

    #[tokio::test]
    async fn growing_without_bound_hits_the_memory_limit() {
        let _turn = support::beside_others().await;
        let out = misbehave(r#"{"do":"grow"}"#, &[]).await;
        assert_eq!(out.status, RunStatus::Failed);
        assert!(out.error.unwrap().starts_with("memory limit exceeded"));
    }

    #[tokio::test]
    async fn floods_of_logs_and_stdout_are_bounded() {
        let _turn = support::beside_others().await;
        let out = misbehave(r#"{"do":"log-flood"}"#, &[]).await;
        assert!(out.logs.len() <= (64 << 10) + 256, "{}", out.logs.len());
        assert!(out.logs.contains("log lines dropped"));
        let out = misbehave(r#"{"do":"stdout"}"#, &[]).await;
        assert!(out.logs.len() <= (64 << 10) + 256);
        assert!(out.logs.contains("bytes of output dropped"));
    }
}
