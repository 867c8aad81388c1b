//! Plugins in every language a team may write them in: the Python (componentize-py) and
//! JavaScript (componentize-js) examples and the Rust example built with `cargo component`,
//! run by a real replica — state, config, logs, an exception as a failed run with its message,
//! HTTP to an allowed and to a denied host. The 12-19 MB components arrive while the replica
//! runs: they are compiled in a child process, the replica stays small, and another job's
//! ticks keep firing on time meanwhile.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Host, HostOptions, rss_kib};
use wasmcron_e2e::turns;

/// Most resident memory a replica may have after compiling the big components.
const MAX_RSS_MIB: u64 = 150;
/// Compiling the four big components takes about 45 s each with a debug build on two busy
/// cores (a release build: 7-9 s).
const COMPILE_DEADLINE: Duration = Duration::from_secs(480);

/// Copies `from` into `dir` as `name` the way a deployment would: a hidden temporary file
/// renamed into place.
fn install(from: &Path, dir: &Path, name: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(from, &tmp)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins.sh)", from.display()));
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

async fn create(host: &Host, body: Value) {
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
}

fn ms(rfc3339: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

async fn finished(host: &Host, job: &str, n: usize) -> Vec<Value> {
    let done = |r: &Value| r["status"] == "succeeded" || r["status"] == "failed";
    host.wait_for(
        &format!("{n} finished runs of {job}"),
        Duration::from_secs(60),
        || async { host.runs(job).await.iter().filter(|r| done(r)).count() >= n },
    )
    .await;
    let mut runs = host.runs(job).await;
    runs.retain(done);
    runs.sort_by_key(|r| ms(&r["scheduled_at"]));
    runs
}

#[tokio::test]
async fn python_javascript_and_cargo_component_plugins_run_end_to_end() {
    let _turn = turns::beside_others().await;
    let built = plugins_dir();
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    install(&built.join("hello.wasm"), &plugins, "hello.wasm");
    let db = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let host = Host::start(HostOptions::new(&db, "languages", &plugins)).await;
    create(
        &host,
        json!({"name": "steady", "schedule": "* * * * * *", "plugin": "hello"}),
    )
    .await;
    finished(&host, "steady", 1).await;

    // The big components arrive while the replica runs.
    let compile_started = std::time::Instant::now();
    for (language, name) in [
        ("python", "hello-py"),
        ("js", "hello-js"),
        ("python", "uptime-py"),
        ("js", "uptime-js"),
    ] {
        install(
            &built.join(language).join(format!("{name}.wasm")),
            &plugins,
            &format!("{name}.wasm"),
        );
    }
    install(
        &built.join("cargo-component/hello.wasm"),
        &plugins,
        "hello-cc.wasm",
    );
    host.wait_for("the big plugins loaded", COMPILE_DEADLINE, || async {
        let (_, list) = host.get("/api/v1/plugins").await;
        let loaded = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["digest"].is_string())
            .count();
        loaded == 6
    })
    .await;
    let compile_time = compile_started.elapsed();
    let rss_mib = rss_kib(host.pid()).unwrap() / 1024;
    eprintln!("compiled in {compile_time:?}; replica RSS {rss_mib} MiB");
    assert!(
        rss_mib <= MAX_RSS_MIB,
        "replica RSS {rss_mib} MiB after loading the Python and JavaScript plugins"
    );

    // The steady job kept firing on time while the big plugins compiled.
    let runs = finished(&host, "steady", 2).await;
    let during: Vec<&Value> = runs
        .iter()
        .filter(|r| ms(&r["scheduled_at"]) >= ms(&runs[0]["scheduled_at"]))
        .collect();
    for pair in during.windows(2) {
        let (a, b) = (ms(&pair[0]["scheduled_at"]), ms(&pair[1]["scheduled_at"]));
        assert_eq!(b - a, 1000, "a tick is missing: {a} then {b}");
    }
    for run in &during {
        assert_eq!(run["status"], "succeeded", "{run}");
        let late = ms(&run["started_at"]) - ms(&run["scheduled_at"]);
        assert!(late < 1000, "a tick started {late} ms late: {run}");
    }
    assert!(
        during.len() as u64 >= compile_time.as_secs() / 2,
        "{} runs in {compile_time:?}",
        during.len()
    );

    let collector = Collector::start().await;
    let allowed = format!("127.0.0.1:{}", collector.port);
    for plugin in ["hello-py", "hello-js", "hello-cc"] {
        create(
            &host,
            json!({"name": plugin, "schedule": "* * * * * *", "plugin": plugin,
                   "input": {"name": plugin}, "config": {"greeting": "Hi"}}),
        )
        .await;
        create(
            &host,
            json!({"name": format!("{plugin}-bad"), "schedule": "* * * * * *", "plugin": plugin,
                   "input": {"name": 5}}),
        )
        .await;
    }
    for plugin in ["uptime-py", "uptime-js"] {
        // The collector answers GET with 405: a response from an allowed host.
        create(
            &host,
            json!({"name": plugin, "schedule": "* * * * * *", "plugin": plugin,
                   "input": {"url": collector.url(), "expect_status": 405},
                   "allowed_hosts": [allowed]}),
        )
        .await;
        create(
            &host,
            json!({"name": format!("{plugin}-denied"), "schedule": "* * * * * *",
                   "plugin": plugin, "input": {"url": collector.url()},
                   "allowed_hosts": ["example.com"]}),
        )
        .await;
    }

    for (plugin, exception) in [
        (
            "hello-py",
            "TypeError: input field \"name\" must be a string, got 5",
        ),
        (
            "hello-js",
            "TypeError: input field \"name\" must be a string, got 5",
        ),
        (
            "hello-cc",
            "the job's input does not fit: invalid type: integer `5`",
        ),
    ] {
        // State (the run counter), config (the greeting), logs.
        let runs = finished(&host, plugin, 2).await;
        for (i, run) in runs.iter().take(2).enumerate() {
            assert_eq!(run["status"], "succeeded", "{run}");
            assert_eq!(
                run["result"],
                format!("Hi, {plugin}! (run #{})", i + 1),
                "{run}"
            );
            let logs = run["logs"].as_str().unwrap();
            assert!(logs.contains(&format!("greets {plugin}")), "{logs}");
        }
        // An exception in the plugin: a failed run with its message.
        let bad = &finished(&host, &format!("{plugin}-bad"), 1).await[0];
        assert_eq!(bad["status"], "failed", "{bad}");
        let error = bad["error"].as_str().unwrap();
        assert!(error.contains(exception), "{plugin}: {error}");
    }
    for plugin in ["uptime-py", "uptime-js"] {
        let ok = &finished(&host, plugin, 1).await[0];
        assert_eq!(ok["status"], "succeeded", "{ok}");
        assert!(ok["result"].as_str().unwrap().contains("405"), "{ok}");
        let denied = &finished(&host, &format!("{plugin}-denied"), 1).await[0];
        assert_eq!(denied["status"], "failed", "{denied}");
        let logs = denied["logs"].as_str().unwrap_or_default();
        assert!(
            logs.contains("denied: not in this job's allowed_hosts"),
            "{plugin}: {denied}"
        );
    }
    assert_eq!(
        collector.reports().len(),
        0,
        "GETs are not reports; nothing else reached the collector"
    );
}
