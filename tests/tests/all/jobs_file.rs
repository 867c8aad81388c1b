//! The watched jobs file end to end. Two replicas on PostgreSQL share one YAML file, laid out
//! as Kubernetes mounts a ConfigMap (`jobs.yaml -> ..data/jobs.yaml`, `..data -> ..<version>`)
//! and also edited in place and by an editor's atomic rename: jobs are created, updated and
//! deleted by file edits, seen on both replicas; an unchanged file changes no version; spec
//! edits through the API answer 409 while pause survives a re-apply; an invalid file changes
//! nothing and is reported where it is wrong; every change is in the audit log as
//! `jobs-file`'s. On SQLite, `wasmcron job apply` and `job export` through the API.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmcron_e2e::built::{binary, plugins_dir};
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

const V1: &str = "\
# The jobs of this cluster.
- name: greet
  schedule: '@every 1h'
  plugin: hello
- name: nightly
  schedule: 0 3 * * *
  timezone: Europe/Berlin
  plugin: hello
  retry: {attempts: 3, backoff: 10s}
";

/// `greet` gone, `nightly` at 4 o'clock, `report` new.
const V2: &str = "\
- name: nightly
  schedule: 0 4 * * *
  timezone: Europe/Berlin
  plugin: hello
  retry: {attempts: 3, backoff: 10s}
- name: report
  schedule: '@every 30m'
  plugin: hello
  timeout: 20s
";

/// Entry 2's schedule is not one.
const BAD: &str = "\
- name: nightly
  schedule: 0 5 * * *
  plugin: hello
- name: report
  schedule: every day
  plugin: hello
";

/// Publishes `text` as version `version` of the ConfigMap mounted at `dir`, the way the
/// kubelet does: the version's directory, then `..data` swapped in by an atomic rename.
fn publish(dir: &Path, version: &str, text: &str) {
    let versioned = dir.join(version);
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("jobs.yaml"), text).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(version, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    // The file itself links into `..data` (again, after an editor's save replaced it).
    let link = dir.join("jobs.yaml");
    if !std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
        let tmp = dir.join("jobs.yaml_tmp");
        std::os::unix::fs::symlink("..data/jobs.yaml", &tmp).unwrap();
        std::fs::rename(&tmp, &link).unwrap();
    }
}

/// Saves `text` at `file` as an editor does: a new file renamed over the old one.
fn save(file: &Path, text: &str) {
    let tmp = file.with_extension("yaml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// The jobs as replica `host` lists them: name → (schedule, version, paused, managed_by).
async fn jobs(host: &Host) -> Vec<(String, String, i64, bool, Value)> {
    let (status, page) = host.get("/api/v1/jobs").await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap().to_owned(),
                j["schedule"].as_str().unwrap().to_owned(),
                j["version"].as_i64().unwrap(),
                j["status"] == "paused",
                j["managed_by"].clone(),
            )
        })
        .collect()
}

async fn names(host: &Host) -> Vec<String> {
    jobs(host).await.into_iter().map(|j| j.0).collect()
}

async fn file_status(host: &Host) -> Value {
    let (status, answer) = host.get("/api/v1/jobs-file").await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_replicas_converge_on_one_watched_file() {
    let _turn = turns::alone().await;
    let mounted = tempfile::tempdir().unwrap();
    publish(mounted.path(), "..2026_11_30_01", V1);
    let file = mounted.path().join("jobs.yaml");
    let path = file.display().to_string();
    let args = [
        "--heartbeat-interval",
        "1s",
        "--dead-after",
        "5s",
        "--jobs-file",
        path.as_str(),
    ];
    let mut c = Cluster::on(Engine::Postgres, &args).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    let (r1, r2) = (c.host("r1"), c.host("r2"));
    let deadline = Duration::from_secs(15);
    for host in [r1, r2] {
        host.wait_for("the file's jobs", deadline, || async {
            names(host).await == ["greet", "nightly"]
        })
        .await;
    }
    for (_, _, version, _, managed_by) in jobs(r2).await {
        assert_eq!((version, managed_by), (1, json!(path)));
    }
    // Both replicas find the cluster in sync with the version they read; one applied it.
    for host in [r1, r2] {
        host.wait_for("in sync", deadline, || async {
            file_status(host).await["in_sync"] == json!(true)
        })
        .await;
    }
    let (s1, s2) = (file_status(r1).await, file_status(r2).await);
    assert_eq!(s1["read"]["digest"], s2["read"]["digest"]);
    assert_eq!(s1["applied"]["digest"], s1["read"]["digest"]);
    assert_ne!(s1["applier"], s2["applier"], "one applier: {s1} {s2}");
    assert_eq!(s1["path"], json!(path));

    // The same content written again: both read it again, and no version moves.
    let before = jobs(r1).await;
    let read_at = |s: &Value| s["checked_at"].as_str().unwrap_or_default().to_owned();
    let (c1, c2) = (read_at(&s1), read_at(&s2));
    publish(mounted.path(), "..2026_11_30_02", V1);
    for (host, checked) in [(r1, &c1), (r2, &c2)] {
        host.wait_for("the same file read again", deadline, || async {
            read_at(&file_status(host).await) > *checked
        })
        .await;
    }
    assert_eq!(jobs(r1).await, before, "an unchanged file changed a job");

    // A job paused through the API stays paused when the file changes.
    let (status, answer) = r2
        .send("POST", "/api/v1/jobs/nightly/pause", Value::Null)
        .await;
    assert_eq!(status, 200, "{answer}");

    // A ConfigMap update: one job deleted, one updated, one created — on both replicas.
    let edited = Instant::now();
    publish(mounted.path(), "..2026_11_30_03", V2);
    for host in [r1, r2] {
        host.wait_for("the edit applied", deadline, || async {
            names(host).await == ["nightly", "report"] && jobs(host).await[0].1 == "0 4 * * *"
        })
        .await;
    }
    println!(
        "a ConfigMap swap was seen on both replicas {} ms later",
        edited.elapsed().as_millis()
    );
    let after = jobs(r1).await;
    // Created (1), paused (2), updated once (3).
    assert_eq!(after[0].2, 3, "nightly updated once: {after:?}");
    assert!(after[0].3, "the pause survived the re-apply");
    assert_eq!(after[1].2, 1);

    // Spec edits are refused and name the file; operations stay allowed.
    let (status, answer) = r1
        .send(
            "PATCH",
            "/api/v1/jobs/report",
            json!({"schedule": "@every 1m"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "managed");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains(&path),
        "{answer}"
    );
    let (status, answer) = r1.send("DELETE", "/api/v1/jobs/report", Value::Null).await;
    assert_eq!((status, &answer["error"]["code"]), (409, &json!("managed")));
    let (status, answer) = r1
        .send("POST", "/api/v1/jobs/report/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");

    // An invalid version changes nothing, and both replicas say where it is wrong.
    let before = jobs(r1).await;
    save(&file, BAD);
    for host in [r1, r2] {
        host.wait_for("the error reported", deadline, || async {
            !file_status(host).await["error"].is_null()
        })
        .await;
        let error = &file_status(host).await["error"];
        assert_eq!(
            (
                &error["entry"],
                &error["name"],
                &error["field"],
                &error["line"]
            ),
            (&json!(2), &json!("report"), &json!("schedule"), &json!(4)),
            "{error}"
        );
        assert!(
            error["message"].as_str().unwrap().starts_with(&format!(
                "jobs file {path} line 4: entry #2 (report) field schedule"
            )),
            "{error}"
        );
        let (_, metrics) = host.request(None, "GET", "/metrics", Value::Null).await;
        assert!(
            metrics.contains("wasmcron_jobs_file_reads_total{outcome=\"refused\"} 1"),
            "{metrics}"
        );
    }
    assert_eq!(jobs(r1).await, before, "an invalid file changed a job");

    // Fixed by another save: applied again (`report`, no longer listed, deleted).
    save(&file, V1);
    r2.wait_for("the fixed file applied", deadline, || async {
        names(r2).await == ["greet", "nightly"] && file_status(r2).await["error"].is_null()
    })
    .await;
    // A job made through the API is never the file's to delete.
    let (status, answer) = r1
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "manual", "schedule": "@hourly", "plugin": "hello"}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let checked = [
        read_at(&file_status(r1).await),
        read_at(&file_status(r2).await),
    ];
    publish(mounted.path(), "..2026_11_30_04", V1);
    for (host, checked) in [(r1, &checked[0]), (r2, &checked[1])] {
        host.wait_for("the file read again", deadline, || async {
            read_at(&file_status(host).await) > *checked
        })
        .await;
    }
    assert_eq!(names(r1).await, ["greet", "manual", "nightly"]);
    let managed: Vec<Value> = jobs(r1).await.into_iter().map(|j| j.4).collect();
    assert_eq!(managed, [json!(path), Value::Null, json!(path)]);

    // Every change is the jobs file's in the audit log.
    let (status, page) = r2.get("/api/v1/audit?actor=jobs-file&limit=100").await;
    assert_eq!(status, 200, "{page}");
    let mut seen: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let expected: Vec<(String, String)> = [
        ("job.created", "greet"),
        ("job.created", "greet"),
        ("job.created", "nightly"),
        ("job.created", "report"),
        ("job.deleted", "greet"),
        ("job.deleted", "report"),
        ("job.updated", "nightly"),
        ("job.updated", "nightly"),
    ]
    .iter()
    .map(|(a, t)| (a.to_string(), t.to_string()))
    .collect();
    assert_eq!(seen, expected);
}

/// A rolling update: two replicas read two versions of the file (the same relative path,
/// resolved in two directories, as two pods mount two versions of one ConfigMap). The leader's
/// version is applied and stays; the other replica reports the difference without applying
/// it; when the leader is gone, the survivor leads and applies its own — once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_rolling_update_follows_the_leader_without_flapping() {
    let _turn = turns::alone().await;
    let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(old.path().join("jobs.yaml"), V1).unwrap();
    std::fs::write(new.path().join("jobs.yaml"), V2).unwrap();
    let args = [
        "--heartbeat-interval",
        "1s",
        "--dead-after",
        "4s",
        "--jobs-file",
        "jobs.yaml",
    ];
    let mut c = Cluster::on(Engine::Postgres, &args).await;
    let mut options = c.options("old");
    options.cwd = Some(old.path().to_path_buf());
    c.start_with(options).await;
    let deadline = Duration::from_secs(15);
    let old_host = c.host("old");
    old_host
        .wait_for("the old version applied", deadline, || async {
            names(old_host).await == ["greet", "nightly"]
                && file_status(old_host).await["applier"] == json!(true)
        })
        .await;
    let mut options = c.options("new");
    options.cwd = Some(new.path().to_path_buf());
    c.start_with(options).await;
    let new_host = c.host("new");
    new_host
        .wait_for("the difference reported", deadline, || async {
            let status = file_status(new_host).await;
            status["in_sync"] == json!(false)
                && status["pending"] == json!({"create": 1, "update": 1, "delete": 1})
        })
        .await;
    let before = jobs(new_host).await;
    // The other replica compares again (every 2 s while it differs) and applies nothing.
    let status = file_status(new_host).await;
    let checked = status["checked_at"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let seen = file_status(new_host).await["checked_at"]
            .as_str()
            .unwrap()
            .to_owned();
        new_host
            .wait_for("compared again", deadline, || async {
                file_status(new_host).await["checked_at"].as_str().unwrap() > seen.as_str()
            })
            .await;
    }
    assert!(file_status(new_host).await["checked_at"].as_str().unwrap() > checked.as_str());
    assert_eq!(file_status(new_host).await["applier"], json!(false));
    assert_eq!(
        jobs(new_host).await,
        before,
        "the jobs flipped to the other version"
    );

    // The old replica goes (killed, as a pod can be): the new one leads and applies its own.
    c.host_mut("old").kill9();
    let new_host = c.host("new");
    new_host
        .wait_for(
            "the new version applied",
            Duration::from_secs(30),
            || async { names(new_host).await == ["nightly", "report"] },
        )
        .await;
    let after = jobs(new_host).await;
    assert_eq!(
        (after[0].1.as_str(), after[0].2),
        ("0 4 * * *", 2),
        "{after:?}"
    );
    new_host
        .wait_for("in sync", deadline, || async {
            let status = file_status(new_host).await;
            status["in_sync"] == json!(true) && status["applier"] == json!(true)
        })
        .await;
    assert_eq!(
        file_status(new_host).await["applied"]["changes"],
        json!({"create": 1, "update": 1, "delete": 1})
    );
}

/// Run the client against `server` and return its standard output; it must succeed.
fn cli(server: &str, args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(args)
        .env("WASMCRON_SERVER", server)
        .env_remove("WASMCRON_TOKEN")
        .output()
        .expect("run wasmcron");
    assert!(
        out.status.success(),
        "wasmcron {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn sqlite_job_apply_plans_applies_and_round_trips_an_export() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let host = Host::start(HostOptions::new(&db, "apply", &plugins_dir())).await;
    let s = host.base.as_str();
    let file = dir.path().join("jobs.yaml");
    std::fs::write(&file, V1).unwrap();
    let f = file.to_str().unwrap();

    let plan = cli(s, &["job", "apply", f, "--dry-run"]);
    assert_eq!(
        plan,
        format!(
            "+ create greet\n+ create nightly\n\
             {f}: would create 2, update 0, delete 0; 0 unchanged (dry run: nothing changed)\n"
        )
    );
    assert!(names(&host).await.is_empty(), "a dry run created a job");
    cli(s, &["job", "apply", f]);
    assert_eq!(names(&host).await, ["greet", "nightly"]);

    std::fs::write(&file, V2).unwrap();
    let plan = cli(s, &["job", "apply", f, "--prune", "--dry-run"]);
    assert_eq!(
        plan,
        format!(
            "+ create report\n~ update nightly\n    schedule: \"0 3 * * *\" -> \"0 4 * * *\"\n\
             - delete greet\n\
             {f}: would create 1, update 1, delete 1; 0 unchanged (dry run: nothing changed)\n"
        )
    );
    cli(s, &["job", "apply", f, "--prune"]);
    assert_eq!(names(&host).await, ["nightly", "report"]);

    // Export, then apply the export: nothing to do.
    let export = cli(s, &["job", "export"]);
    let exported = dir.path().join("export.yaml");
    std::fs::write(&exported, &export).unwrap();
    let e = exported.to_str().unwrap();
    assert_eq!(
        cli(s, &["job", "apply", e, "--dry-run"]),
        format!(
            "{e}: would create 0, update 0, delete 0; 2 unchanged (dry run: nothing changed)\n"
        ),
        "{export}"
    );
    let json_export: Value =
        serde_json::from_str(&cli(s, &["job", "export", "-o", "json"])).unwrap();
    assert_eq!(
        json_export[1],
        json!({"name": "report", "schedule": "@every 30m", "plugin": "hello", "timeout": "20s"})
    );

    // A bad file is refused before anything is sent, with its line.
    std::fs::write(&file, BAD).unwrap();
    let out = Command::new(binary())
        .args(["job", "apply", f])
        .env("WASMCRON_SERVER", s)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "jobs file {f} line 4: entry #2 (report) field schedule"
        )),
        "{stderr}"
    );
}
