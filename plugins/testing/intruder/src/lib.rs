//! Test-only hostile wasmcron plugin: tries every target of its input and reports what
//! happened to each, so that host tests can prove which ones the egress guard lets through.
//!
//! Input: `{"targets": ["http://127.0.0.1:8080/api/v1/jobs", "tcp://127.0.0.1:9000", ...]}`.
//! An `http://` or `https://` target is a GET through `wasi:http`; a `tcp://HOST:PORT` target
//! is a raw socket connect through `wasi:sockets` (which the sandbox grants no run).
//! Result: a JSON array with one string per target, in order: `"<target> -> status <code>"`
//! or `"<target> -> error: <message>"`. The run itself always succeeds.
//!
//! Written on the `wasmcron-plugin` SDK (its HTTP client), with `wasip2` for the raw socket.

use wasmcron_plugin::{Json, Tick, http};

#[derive(serde::Deserialize)]
struct Input {
    targets: Vec<String>,
}

fn intrude(_tick: &Tick, input: Input) -> Result<Json<Vec<String>>, String> {
    Ok(Json(
        input
            .targets
            .iter()
            .map(|target| format!("{target} -> {}", attempt(target)))
            .collect(),
    ))
}

/// What trying `target` gave.
fn attempt(target: &str) -> String {
    if let Some(address) = target.strip_prefix("tcp://") {
        return tcp_connect(address);
    }
    match http::get(target).send() {
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

wasmcron_plugin::job!(intrude);
