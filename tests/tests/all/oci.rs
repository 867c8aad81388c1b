//! Plugins distributed through an OCI registry: a real registry on loopback (Debian's
//! `docker-registry`), `wasmcron plugin push` / `pull`, and replicas serving
//! `--plugin-ref NAME=REF` (a tag followed and hot-swapped, a digest pinned, the last good
//! version serving while the registry is down, bad references each with a one-line error).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::{binary, plugin, with_marker};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::registry::Registry;
use wasmcron_e2e::turns;

fn digest_of(bytes: &[u8]) -> String {
    wasmcron::runtime::digest_of(bytes)
}

/// Runs `wasmcron ARGS...`.
fn wasmcron(args: &[&str]) -> Output {
    std::process::Command::new(binary())
        .args(args)
        .output()
        .expect("run wasmcron")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one-line error of a failed command.
fn error_line(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// The value of `LABEL: VALUE` in a command's output.
fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))
        .to_string()
}

/// Pushes `bytes` as a component to `reference` (plain HTTP); the manifest digest.
fn push(registry: &Registry, bytes: &[u8], reference: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plugin.wasm");
    std::fs::write(&file, bytes).unwrap();
    let out = wasmcron(&[
        "plugin",
        "push",
        file.to_str().unwrap(),
        reference,
        "--insecure-registry",
        &registry.address,
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert_eq!(field(&text, "content digest"), digest_of(bytes), "{text}");
    field(&text, "manifest digest")
}

/// Pushes an image whose one layer is a tarball, not a component, to `repository:tag`.
async fn push_non_wasm_artifact(registry: &Registry, repository: &str, tag: &str) {
    let client = reqwest::Client::new();
    let base = format!("http://{}/v2/{repository}", registry.address);
    let mut descriptors = Vec::new();
    for (media_type, body) in [
        ("application/vnd.oci.image.config.v1+json", b"{}".to_vec()),
        (
            "application/vnd.oci.image.layer.v1.tar+gzip",
            b"not a component".to_vec(),
        ),
    ] {
        let digest = digest_of(&body);
        let started = client
            .post(format!("{base}/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 202);
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", registry.address)
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = client
            .put(format!("{location}{separator}digest={digest}"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
        descriptors.push(json!({"mediaType": media_type, "digest": digest, "size": body.len()}));
    }
    let manifest = json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptors[0], "layers": [descriptors[1]]});
    let put = client
        .put(format!("{base}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{:?}", put.text().await);
}

#[tokio::test]
async fn push_and_pull_a_component_and_refuse_bad_input_with_one_line() {
    let _turn = turns::beside_others().await;
    let registry = Registry::start().await;
    let hello = plugin("hello");
    let tag = registry.reference("jobs/hello:1.0");
    let manifest_digest = push(&registry, &hello, &tag);
    assert!(manifest_digest.starts_with("sha256:"));

    let dir = tempfile::tempdir().unwrap();
    let pulled = dir.path().join("pulled.wasm");
    let insecure = ["--insecure-registry", registry.address.as_str()];
    let pinned = registry.reference(&format!("jobs/hello@{manifest_digest}"));
    for reference in [tag.as_str(), pinned.as_str()] {
        let mut args = vec!["plugin", "pull", reference, "-o", pulled.to_str().unwrap()];
        args.extend(insecure);
        let out = wasmcron(&args);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read(&pulled).unwrap(), hello);
        assert_eq!(field(&stdout(&out), "manifest digest"), manifest_digest);
        assert_eq!(field(&stdout(&out), "content digest"), digest_of(&hello));
    }

    push_non_wasm_artifact(&registry, "jobs/image", "1").await;
    // A registry serving other bytes than the manifest names (same length, one byte changed).
    let uptime = plugin("uptime");
    push(&registry, &uptime, &registry.reference("jobs/tampered:1"));
    let mut tampered = uptime.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    registry.corrupt_blob(&digest_of(&uptime), &tampered);
    let not_a_component = dir.path().join("notes.txt");
    std::fs::write(&not_a_component, "hello").unwrap();
    let pull = |reference: String, insecure: bool| {
        let mut args = vec![
            "plugin".to_string(),
            "pull".to_string(),
            reference,
            "-o".to_string(),
            dir.path().join("x.wasm").display().to_string(),
        ];
        if insecure {
            args.extend(["--insecure-registry".to_string(), registry.address.clone()]);
        }
        wasmcron(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let cases = [
        (
            pull(registry.reference("jobs/hello"), true),
            "has no tag or digest",
        ),
        (
            pull(registry.reference("jobs/hello:2.0"), true),
            "no such tag or manifest",
        ),
        (
            pull(registry.reference("jobs/image:1"), true),
            "the manifest has no application/wasm layer",
        ),
        (
            pull(registry.reference("jobs/tampered:1"), true),
            "digest mismatch",
        ),
        (
            pull(tag.clone(), false),
            "named with --insecure-registry HOST:PORT",
        ),
        (
            wasmcron(&[
                "plugin",
                "push",
                not_a_component.to_str().unwrap(),
                &registry.reference("jobs/notes:1"),
                "--insecure-registry",
                &registry.address,
            ]),
            "notes.txt: ",
        ),
        (
            wasmcron(&[
                "plugin",
                "push",
                dir.path().join("pulled.wasm").to_str().unwrap(),
                &pinned,
                "--insecure-registry",
                &registry.address,
            ]),
            "push to a tag",
        ),
    ];
    for (out, expected) in cases {
        let error = error_line(&out);
        assert!(error.contains(expected), "{expected:?} in {error}");
    }
    assert!(
        !dir.path().join("x.wasm").exists(),
        "a failed pull writes nothing"
    );
}

#[tokio::test]
async fn a_registry_that_requires_credentials_takes_them_from_a_docker_config() {
    let _turn = turns::beside_others().await;
    let registry = Registry::start_with_credentials("ci", "s3cret").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.wasm");
    std::fs::write(&file, plugin("hello")).unwrap();
    let reference = registry.reference("jobs/hello:1");
    let good = registry.auth_file(None);
    let bad = registry.auth_file(Some("wrong"));
    let run = |auth: Option<&Path>| {
        let mut args = vec![
            "plugin",
            "push",
            file.to_str().unwrap(),
            &reference,
            "--insecure-registry",
            &registry.address,
        ];
        if let Some(auth) = auth {
            args.extend(["--registry-auth", auth.to_str().unwrap()]);
        }
        wasmcron(&args)
    };
    for auth in [None, Some(bad.as_path())] {
        let error = error_line(&run(auth));
        assert!(
            error.contains("the registry refused the credentials"),
            "{auth:?}: {error}"
        );
    }
    let out = run(Some(&good));
    assert!(out.status.success(), "{out:?}");
}

/// The plugins listed by the API, by name.
async fn plugins(host: &Host) -> serde_json::Map<String, Value> {
    let (status, list) = host.get("/api/v1/plugins").await;
    assert_eq!(status, 200);
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p.clone()))
        .collect()
}

#[tokio::test]
async fn serve_follows_a_tag_pins_a_digest_and_keeps_the_last_good_version() {
    let _turn = turns::beside_others().await;
    let mut registry = Registry::start().await;
    let v1 = plugin("hello");
    let v2 = with_marker(&v1, "v2");
    let stable = registry.reference("jobs/hello:stable");
    let v1_manifest = push(&registry, &v1, &stable);
    let pinned = registry.reference(&format!("jobs/hello@{v1_manifest}"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.wasm"), &v1).unwrap();
    let db = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let mut options = HostOptions::new(&db, "oci", dir.path());
    for plugin_ref in [
        format!("remote={stable}"),
        format!("pinned={pinned}"),
        format!("local={stable}"),
        format!("missing={}", registry.reference("jobs/nothing:1")),
    ] {
        options
            .extra_args
            .extend(["--plugin-ref".to_string(), plugin_ref]);
    }
    options.extra_args.extend([
        "--insecure-registry".to_string(),
        registry.address.clone(),
        "--plugin-ref-interval".to_string(),
        "300ms".to_string(),
    ]);
    let host = Host::start(options).await;

    let listed = plugins(&host).await;
    assert_eq!(listed["remote"]["digest"], digest_of(&v1), "{listed:?}");
    assert_eq!(listed["pinned"]["digest"], digest_of(&v1), "{listed:?}");
    let clash = listed["local"]["error"].as_str().unwrap();
    assert!(
        clash.starts_with("plugin name clash: local.wasm"),
        "{clash}"
    );
    assert_eq!(listed["local"]["digest"], Value::Null);
    let missing = listed["missing"]["error"].as_str().unwrap();
    assert!(missing.contains("no such tag or manifest"), "{missing}");

    let (status, job) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "greet", "schedule": "* * * * * *", "plugin": "remote",
                   "input": {"name": "oci"}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let digests = |runs: &[Value]| -> Vec<String> {
        runs.iter()
            .filter(|r| r["status"] == "succeeded")
            .map(|r| r["plugin_digest"].as_str().unwrap().to_string())
            .collect()
    };
    host.wait_for("a run of v1", Duration::from_secs(20), || async {
        digests(&host.runs("greet").await).contains(&digest_of(&v1))
    })
    .await;

    // A new version under the tag is hot-swapped; the pinned plugin stays.
    push(&registry, &v2, &stable);
    host.wait_for("a run of v2", Duration::from_secs(20), || async {
        digests(&host.runs("greet").await).contains(&digest_of(&v2))
    })
    .await;
    let listed = plugins(&host).await;
    assert_eq!(listed["pinned"]["digest"], digest_of(&v1));
    assert_eq!(listed["remote"]["error"], Value::Null);

    // The registry goes away: the error shows, the last good version keeps serving.
    registry.kill();
    registry.wait_down().await;
    host.wait_for(
        "the registry's error listed",
        Duration::from_secs(20),
        || async { plugins(&host).await["remote"]["error"].is_string() },
    )
    .await;
    let listed = plugins(&host).await;
    let error = listed["remote"]["error"].as_str().unwrap();
    assert!(error.contains("cannot reach the registry"), "{error}");
    assert_eq!(listed["remote"]["digest"], digest_of(&v2));
    let ids =
        |runs: &[Value]| -> Vec<i64> { runs.iter().map(|r| r["id"].as_i64().unwrap()).collect() };
    let before = ids(&host.runs("greet").await);
    host.wait_for(
        "2 more succeeded runs while the registry is down",
        Duration::from_secs(20),
        || async {
            let runs = host.runs("greet").await;
            let new: Vec<&Value> = runs
                .iter()
                .filter(|r| !before.contains(&r["id"].as_i64().unwrap()))
                .collect();
            new.iter().filter(|r| r["status"] == "succeeded").count() >= 2
        },
    )
    .await;
    for run in host.runs("greet").await {
        if !before.contains(&run["id"].as_i64().unwrap()) && run["status"] == "succeeded" {
            assert_eq!(run["plugin_digest"], digest_of(&v2), "{run}");
        }
    }
}
