//! A hostile plugin (`intruder`) against the egress guard, end to end, on loopback only: the
//! wildcard `*` reaches neither the replica itself — by 127.0.0.1, `localhost`, [::1], another
//! 127/8 address, its advertise address or an odd spelling — nor a listener of the test on
//! loopback, nor anything through a raw socket, while explicit IP entries still reach both.
//!
//! The replica listens on every interface (`[::]:0`), so that each of those addresses really
//! reaches it: a denial is the guard's doing, not a connection refused. Its host names resolve
//! through a hosts file of the test's own (`inside::own_hosts_file`): `replica.test` (the
//! advertise name) and `rebind.test` are loopback names, and no query leaves the machine.

use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::inside::{CountingListener, own_hosts_file};
use wasmcron_e2e::turns;

/// A replica that answers at every loopback address, and a listener of the test.
struct Inside {
    host: Host,
    /// The replica's API port.
    api: u16,
    listener: CountingListener,
    _db: tempfile::TempDir,
    _hosts: tempfile::TempDir,
}

async fn inside(name: &str) -> Inside {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("db").display());
    let mut options = HostOptions::new(&url, name, &plugins_dir());
    options.listen = "[::]:0".into();
    options.extra_args = vec![
        "--advertise".into(),
        "replica.test:0".into(),
        "--settings-ttl".into(),
        "1s".into(),
    ];
    let hosts = own_hosts_file(
        &mut options,
        &[
            ("127.0.0.1", "replica.test"),
            ("::1", "replica.test"),
            ("127.0.0.1", "rebind.test"),
        ],
    );
    let host = Host::start(options).await;
    let api = host.base.rsplit(':').next().unwrap().parse().unwrap();
    let listener = CountingListener::start("127.0.0.1:0").await;
    Inside {
        host,
        api,
        listener,
        _db: db,
        _hosts: hosts,
    }
}

/// One run of the intruder against `targets` under `allowed` (`Null`: no allowed_hosts of
/// its own): each target's outcome, and the run's log.
async fn attempt(
    inside: &Inside,
    job: &str,
    allowed: Value,
    targets: &[String],
) -> (Vec<String>, String) {
    let host = &inside.host;
    let mut body = json!({"name": job, "schedule": "0 0 1 1 *", "plugin": "intruder",
                          "input": {"targets": targets}});
    if !allowed.is_null() {
        body["allowed_hosts"] = allowed;
    }
    let (status, created) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{created}");
    let instance = host.options.instance_id.clone();
    host.wait_for("the job to be claimed", Duration::from_secs(20), || async {
        host.get(&format!("/api/v1/jobs/{job}")).await.1["owner"] == instance.as_str()
    })
    .await;
    let (status, answer) = host
        .send("POST", &format!("/api/v1/jobs/{job}/trigger"), Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");
    host.wait_for("the run to finish", Duration::from_secs(60), || async {
        host.runs(job)
            .await
            .iter()
            .any(|r| r["status"] == "succeeded")
    })
    .await;
    let run = host.runs(job).await.pop().unwrap();
    let outcomes: Vec<String> =
        serde_json::from_str(run["result"].as_str().expect("a result")).unwrap();
    assert_eq!(outcomes.len(), targets.len(), "{run}");
    (
        outcomes,
        run["logs"].as_str().unwrap_or_default().to_string(),
    )
}

fn denied(outcome: &str) -> bool {
    outcome.contains("-> error: request to ")
        && outcome.contains(" denied by the job's allowed_hosts (the run's log says why)")
}

#[tokio::test]
async fn the_wildcard_reaches_neither_the_replica_nor_a_loopback_listener() {
    let _turn = turns::beside_others().await;
    let inside = inside("egress-wildcard").await;
    let (api, port) = (inside.api, inside.listener.address.port());
    let replica = [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "127.0.0.2",
        "127.255.255.254",
        "replica.test",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:2]",
        "[::]",
        "0.0.0.0",
    ];
    let mut targets: Vec<String> = replica
        .iter()
        .map(|h| format!("http://{h}:{api}/api/v1/jobs"))
        .collect();
    targets.push(format!("https://127.0.0.1:{api}/api/v1/jobs"));
    targets.push(format!("http://127.0.0.1:{port}/"));
    targets.push(format!("http://rebind.test:{port}/"));
    targets.push(format!("tcp://127.0.0.1:{port}"));
    targets.push(format!("tcp://127.0.0.1:{api}"));
    let (outcomes, logs) = attempt(&inside, "wildcard", json!(["*"]), &targets).await;

    let (http, tcp) = outcomes.split_at(outcomes.len() - 2);
    for outcome in http {
        assert!(denied(outcome), "{outcome}\nlog:\n{logs}");
    }
    for outcome in tcp {
        // No run is granted sockets: the socket cannot even be created.
        assert!(
            outcome.contains("-> error: create-tcp-socket:") && outcome.contains("access-denied"),
            "{outcome}"
        );
    }
    assert_eq!(inside.listener.connections(), 0, "the listener was reached");
    // The run log names the host, the address and the rule of each denial.
    for line in [
        format!(
            "outbound HTTP to 127.0.0.2:{api} denied: 127.0.0.2:{api} is a loopback address \
             (127.0.0.0/8), and the wildcard entry \"*\" reaches only public addresses; allow it \
             with an entry naming the address (127.0.0.2:{api}) or its range"
        ),
        format!("outbound HTTP to 127.0.0.1:{api} denied: 127.0.0.1:{api} is a loopback address"),
        format!("outbound HTTP to [::1]:{api} denied: [::1]:{api} is a loopback address (::1)"),
        format!(
            "outbound HTTP to rebind.test:{port} denied: it resolves to 127.0.0.1:{port}, a loopback address"
        ),
        format!("outbound HTTP to [::]:{api} denied: [::]:{api} is an unspecified address (::)"),
        format!(
            "outbound HTTP to 0.0.0.0:{api} denied: 0.0.0.0:{api} is an unspecified address (0.0.0.0/8)"
        ),
    ] {
        assert!(
            logs.contains(&line),
            "{line:?} missing from the run log:\n{logs}"
        );
    }
    for host in ["localhost", "replica.test"] {
        let prefix = format!("outbound HTTP to {host}:{api} denied: it resolves to ");
        let line = logs
            .lines()
            .find(|l| l.contains(&prefix))
            .unwrap_or_else(|| panic!("no denial of {host} in:\n{logs}"));
        assert!(line.contains("a loopback address"), "{line}");
    }
    // Every odd spelling of 127.0.0.1 is named as the address it spells.
    let spelled = logs
        .matches(&format!("denied: 127.0.0.1:{api} is a loopback address"))
        .count();
    assert!(
        spelled >= 6,
        "{spelled} denials of 127.0.0.1:{api} in:\n{logs}"
    );
}

#[tokio::test]
async fn explicit_entries_still_reach_the_replica_and_the_listener() {
    let _turn = turns::beside_others().await;
    let inside = inside("egress-explicit").await;
    let (api, port) = (inside.api, inside.listener.address.port());
    let allowed = json!([
        format!("127.0.0.1:{api}"),
        format!("[::1]:{api}"),
        format!("127.0.0.2:{api}"),
        format!("127.0.0.1:{port}"),
    ]);
    let targets = [
        format!("http://127.0.0.1:{api}/healthz"),
        format!("http://[::1]:{api}/healthz"),
        format!("http://127.0.0.2:{api}/healthz"),
        format!("http://replica.test:{api}/healthz"),
        format!("http://0x7f.1:{api}/healthz"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.3:{api}/healthz"),
    ];
    let (outcomes, logs) = attempt(&inside, "explicit", allowed, &targets).await;
    for outcome in &outcomes[..5] {
        assert!(outcome.contains("-> status 200"), "{outcome}\nlog:\n{logs}");
    }
    for outcome in &outcomes[5..7] {
        assert!(outcome.contains("-> status 204"), "{outcome}\nlog:\n{logs}");
    }
    assert_eq!(inside.listener.connections(), 2);
    assert!(denied(&outcomes[7]), "{}", outcomes[7]);
    assert!(
        logs.contains(&format!(
            "outbound HTTP to 127.0.0.3:{api} denied: not in this job's allowed_hosts (allowed: \
             127.0.0.1:{api}, [::1]:{api}, 127.0.0.2:{api}, 127.0.0.1:{port})"
        )),
        "{logs}"
    );
}

#[tokio::test]
async fn a_host_name_entry_reaches_loopback_but_not_the_replicas_own_address() {
    let _turn = turns::beside_others().await;
    let inside = inside("egress-names").await;
    let (api, port) = (inside.api, inside.listener.address.port());
    let targets = [
        format!("http://replica.test:{api}/api/v1/jobs"),
        format!("http://rebind.test:{port}/"),
        format!("http://localhost:{api}/api/v1/jobs"),
    ];
    let allowed = json!(["replica.test", "rebind.test", "localhost"]);
    let (outcomes, logs) = attempt(&inside, "names", allowed, &targets).await;
    assert!(denied(&outcomes[0]), "{}", outcomes[0]);
    assert!(
        outcomes[1].contains("-> status 204"),
        "{}\n{logs}",
        outcomes[1]
    );
    assert!(denied(&outcomes[2]), "{}", outcomes[2]);
    assert_eq!(inside.listener.connections(), 1);
    for host in ["replica.test", "localhost"] {
        let prefix = format!("outbound HTTP to {host}:{api} denied: it resolves to ");
        let line = logs
            .lines()
            .find(|l| l.contains(&prefix))
            .unwrap_or_else(|| panic!("no denial of {host} in:\n{logs}"));
        assert!(
            line.contains(&format!(
                "this replica's own API address, which the entry \"{host}\" does not reach"
            )),
            "{line}"
        );
    }
}

#[tokio::test]
async fn default_allowed_hosts_follow_the_same_rules() {
    let _turn = turns::beside_others().await;
    let inside = inside("egress-default").await;
    let host = &inside.host;
    let (status, body) = host
        .send(
            "PUT",
            "/api/v1/settings/plugins.default_allowed_hosts",
            json!({"value": ["*"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    host.wait_for("the setting in force", Duration::from_secs(10), || async {
        host.get("/api/v1/settings/effective").await.1["settings"]["plugins.default_allowed_hosts"]
            == json!(["*"])
    })
    .await;
    let (api, port) = (inside.api, inside.listener.address.port());
    let targets = [
        format!("http://127.0.0.1:{api}/api/v1/settings"),
        format!("http://localhost:{port}/"),
    ];
    let (outcomes, logs) = attempt(&inside, "defaults", Value::Null, &targets).await;
    for outcome in &outcomes {
        assert!(denied(outcome), "{outcome}\n{logs}");
    }
    assert!(
        logs.contains("the wildcard entry \"*\" reaches only public addresses"),
        "{logs}"
    );
    assert_eq!(inside.listener.connections(), 0);
}
