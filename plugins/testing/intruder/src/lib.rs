//! Test-only hostile wasmcron plugin: tries every target of its input and reports what
//! happened to each, so that host tests can prove which ones the egress guard lets through.
//!
//! Input: `{"targets": ["http://127.0.0.1:8080/api/v1/jobs", "tcp://127.0.0.1:9000", ...]}`.
//! An `http://` or `https://` target is a GET through `wasi:http`; a `tcp://HOST:PORT` target
//! is a raw socket connect through `wasi:sockets` (which the sandbox grants no run).
//! Result: a JSON array with one string per target, in order: `"<target> -> status <code>"`
//! or `"<target> -> error: <message>"`. The run itself always succeeds.

// The export glue that `generate!` emits passes the tick's fields as flat arguments.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "job",
    path: "../../../wit",
});

use serde_json::Value;

struct Intruder;

impl Guest for Intruder {
    fn run(tick: Tick) -> Result<String, String> {
        let input: Value =
            serde_json::from_str(&tick.input).map_err(|e| format!("input is not JSON: {e}"))?;
        let targets = input
            .get("targets")
            .and_then(Value::as_array)
            .ok_or("input needs an array field \"targets\"")?;
        let outcomes: Vec<String> = targets
            .iter()
            .filter_map(Value::as_str)
            .map(|target| format!("{target} -> {}", attempt(target)))
            .collect();
        serde_json::to_string(&outcomes).map_err(|e| e.to_string())
    }
}

/// What trying `target` gave.
fn attempt(target: &str) -> String {
    if let Some(address) = target.strip_prefix("tcp://") {
        return tcp_connect(address);
    }
    match plugin_http_client::Request::get(target).send() {
        Ok(response) => format!("status {}", response.status),
        Err(e) => format!("error: {e}"),
    }
}

/// A raw TCP connect to `IPv4:PORT` through `wasi:sockets`.
fn tcp_connect(address: &str) -> String {
    use wasip2::sockets::instance_network::instance_network;
    use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    use wasip2::sockets::tcp_create_socket::create_tcp_socket;

    let Ok(address) = address.parse::<std::net::SocketAddrV4>() else {
        return "error: give tcp://IPV4:PORT".to_owned();
    };
    let socket = match create_tcp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(e) => return format!("error: create-tcp-socket: {e:?}"),
    };
    let [a, b, c, d] = address.ip().octets();
    let remote = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port: address.port(),
        address: (a, b, c, d),
    });
    if let Err(e) = socket.start_connect(&instance_network(), remote) {
        return format!("error: start-connect: {e:?}");
    }
    socket.subscribe().block();
    match socket.finish_connect() {
        Ok(_) => "connected".to_owned(),
        Err(e) => format!("error: finish-connect: {e:?}"),
    }
}

export!(Intruder);
