//! The egress gate of the registry client: every connection the OCI client makes — to the
//! registry, to a blob store it redirects to, after any DNS answer — goes through the host's
//! [`Egress`] guard.
//!
//! The OCI client builds its own HTTP client and offers no hook into its connections, but it
//! takes a proxy. So the gate is a forward proxy on a loopback port of this process, and the
//! client's only proxy for `http` and `https`:
//! - `CONNECT host:port` (HTTPS): resolve, check and connect through [`Egress::connect`], then
//!   relay bytes; the TLS session stays end to end between the client and the registry;
//! - `GET http://host:port/path` (a registry named in `--insecure-registry`), and
//!   `GET https://…` (how the HTTP client sends a request after a redirect across hosts): the
//!   same connection (with TLS from the gate for `https`, Mozilla roots), the request forwarded
//!   on it.
//!
//! The gate asks for no password: the HTTP client drops proxy credentials on a redirect
//! across hosts, and what the gate reaches is no more than its rules allow anyone who can
//! reach a loopback port of the pod (a plugin only can with an explicit loopback entry).
//!
//! What the guard allows: every registry named in a reference the client was given (an
//! operator's configuration, so a registry on a private or loopback address works when named
//! — as an allowed-host entry naming it) and public addresses for anything else (the blob
//! storage registries redirect to). A redirect or a DNS answer pointing inside — loopback,
//! private, link-local and metadata addresses, this replica's API — is refused with `403` and
//! the denial logged; the pull then fails with an error and the last good version keeps
//! serving.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::runtime::egress::{Egress, EgressError, HostPattern, OwnAddresses};

/// How long resolving and connecting to a registry (or its blob store) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Body = BoxBody<Bytes, hyper::Error>;

/// The proxy: its address, and its listener until the task serving it starts (at the first
/// operation, inside the runtime; the client is built before one may run), stopped on drop.
pub(super) struct Gate {
    url: String,
    rules: Arc<Rules>,
    serving: Mutex<Serving>,
}

enum Serving {
    NotYet(std::net::TcpListener),
    Started(tokio::task::JoinHandle<()>),
    Failed,
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Serving::Started(task) = &*self.serving.lock().expect("gate task") {
            task.abort();
        }
    }
}

/// What the gate allows.
struct Rules {
    named: RwLock<Vec<HostPattern>>,
    own: Arc<OwnAddresses>,
    /// The last connection the gate failed, until the client's error is read.
    failed: Mutex<Option<Failure>>,
}

/// Why the gate failed a connection the client asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// The guard's rules refused it (the text names host, address and rule).
    Denied(String),
    /// The target did not resolve, answer or connect in time.
    Unreachable(String),
}

impl Rules {
    fn egress(&self) -> Egress {
        let mut entries = self.named.read().expect("registry rules").clone();
        entries.push(HostPattern::parse("*").expect("* parses"));
        Egress::new(entries, self.own.clone())
    }
}

impl Gate {
    /// Binds the proxy to a loopback port; it serves from the first [`Self::allow`]. `own`:
    /// the replica's API addresses (never reached).
    pub(super) fn start(own: Arc<OwnAddresses>) -> std::io::Result<Gate> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let rules = Arc::new(Rules {
            named: RwLock::default(),
            own,
            failed: Mutex::default(),
        });
        Ok(Gate {
            url: format!("http://{address}"),
            rules,
            serving: Mutex::new(Serving::NotYet(listener)),
        })
    }

    /// Starts serving, once; called inside the runtime.
    fn serve(&self) {
        let mut serving = self.serving.lock().expect("gate task");
        match std::mem::replace(&mut *serving, Serving::Failed) {
            Serving::NotYet(listener) => match TcpListener::from_std(listener) {
                Ok(listener) => {
                    *serving = Serving::Started(tokio::spawn(serve(listener, self.rules.clone())))
                }
                // Every connection of the client then fails: refused, never unguarded.
                Err(e) => tracing::error!(target: "wasmcron::registry", "registry gate: {e}"),
            },
            other => *serving = other,
        }
    }

    /// The proxy URL to give the HTTP client.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// The last connection the gate failed since this was last asked (the error of the
    /// operation that failed on it names why, rather than the client's bare `403` or `502`).
    pub(super) fn take_failure(&self) -> Option<Failure> {
        self.rules
            .failed
            .lock()
            .expect("registry gate failure")
            .take()
    }

    /// Allows `registry` (`host` or `host:port`, as in a reference) as a named target, and
    /// starts serving if it has not yet. Every operation of the client calls it first, inside
    /// the runtime.
    pub(super) fn allow(&self, registry: &str) {
        self.serve();
        let Ok(entry) = HostPattern::parse(registry) else {
            // Not an entry (a reference's registry always is): it stays under the wildcard.
            return;
        };
        let mut named = self.rules.named.write().expect("registry rules");
        if !named.contains(&entry) {
            named.push(entry);
        }
    }
}

async fn serve(listener: TcpListener, rules: Arc<Rules>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let rules = rules.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let rules = rules.clone();
                async move { Ok::<_, hyper::Error>(handle(&rules, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

fn answer(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed());
    *response.status_mut() = status;
    response
}

async fn handle(rules: &Rules, mut request: Request<Incoming>) -> Response<Body> {
    request
        .headers_mut()
        .remove(hyper::header::PROXY_AUTHORIZATION);
    let Some(authority) = request.uri().authority().cloned() else {
        return answer(StatusCode::BAD_REQUEST, "no target".to_string());
    };
    let tunnel = request.method() == Method::CONNECT;
    let tls = !tunnel && request.uri().scheme() == Some(&hyper::http::uri::Scheme::HTTPS);
    let port = authority
        .port_u16()
        .unwrap_or(if tunnel || tls { 443 } else { 80 });
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let connection = match rules.egress().connect(host, port, CONNECT_TIMEOUT).await {
        Ok(connection) => connection,
        Err(e) => {
            let (status, failure) = match e {
                EgressError::Denied(_) => {
                    tracing::warn!(target: "wasmcron::registry", "registry connection refused: {e}");
                    (StatusCode::FORBIDDEN, Failure::Denied(e.to_string()))
                }
                _ => (StatusCode::BAD_GATEWAY, Failure::Unreachable(e.to_string())),
            };
            *rules.failed.lock().expect("registry gate failure") = Some(failure);
            return answer(status, e.to_string());
        }
    };
    if !tunnel {
        return forward(request, host, tls, connection.stream).await;
    }
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(request).await {
            let mut client = TokioIo::new(upgraded);
            let mut server = connection.stream;
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
    });
    Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed())
}

/// Sends a request in absolute form (as a client sends it to a proxy) on `stream`, over TLS
/// to `host` when `tls`.
async fn forward(
    mut request: Request<Incoming>,
    host: &str,
    tls: bool,
    stream: tokio::net::TcpStream,
) -> Response<Body> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()
        .expect("a path parses as a URI");
    *request.uri_mut() = path;
    let sent = if tls {
        let name = match rustls::pki_types::ServerName::try_from(host.to_string()) {
            Ok(name) => name,
            Err(e) => return answer(StatusCode::BAD_REQUEST, e.to_string()),
        };
        let connector = tokio_rustls::TlsConnector::from(crate::runtime::TLS_CLIENT.clone());
        match connector.connect(name, stream).await {
            Ok(stream) => send(request, stream).await,
            Err(e) => Err(e.to_string()),
        }
    } else {
        send(request, stream).await
    };
    sent.unwrap_or_else(|e| answer(StatusCode::BAD_GATEWAY, e))
}

/// One HTTP/1.1 exchange on `stream`.
async fn send<S>(request: Request<Incoming>, stream: S) -> Result<Response<Body>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.map(|body| body.boxed()))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// An HTTP server on `ip` answering every request with `answer` (a redirect when it starts
    /// with `http`), counting the requests.
    async fn server(ip: &str, answer: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                if answer.starts_with("http") {
                    axum::response::Redirect::temporary(answer).into_response()
                } else {
                    answer.into_response()
                }
            }
        });
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (address, hits)
    }

    use axum::response::IntoResponse as _;

    fn client(gate: &Gate) -> reqwest::Client {
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(gate.url()).unwrap())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_loopback_target_is_reached_only_once_named() {
        let gate = Gate::start(Arc::default()).unwrap();
        gate.serve();
        let (address, hits) = server("127.0.0.1", "inside").await;
        let url = format!("http://{address}/v2/");
        let refused = client(&gate).get(&url).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let text = refused.text().await.unwrap();
        assert!(text.contains("loopback"), "{text}");
        assert_eq!(hits.load(Ordering::SeqCst), 0);

        gate.allow(&address.to_string());
        let reached = client(&gate).get(&url).send().await.unwrap();
        assert_eq!(reached.status(), StatusCode::OK);
        assert_eq!(reached.text().await.unwrap(), "inside");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    /// A TCP listener on `ip` counting the connections it accepts.
    async fn listener(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        (address, accepted)
    }

    /// A registry redirecting a blob to storage on another address inside (as one redirects
    /// to an HTTPS object store): the tunnel to it is refused and nothing connects to it —
    /// until that address is named too.
    #[tokio::test]
    async fn a_redirect_from_a_named_registry_to_another_address_inside_is_refused() {
        let gate = Gate::start(Arc::default()).unwrap();
        gate.serve();
        let (inside, accepted) = listener("127.0.0.2").await;
        let redirect: &'static str = format!("https://{inside}/latest/meta-data").leak();
        let (registry, registry_hits) = server("127.0.0.1", redirect).await;
        gate.allow(&registry.to_string());
        let url = format!("http://{registry}/v2/wasm/blobs/sha256:00");
        let refused = client(&gate).get(&url).send().await.unwrap();
        assert_eq!(registry_hits.load(Ordering::SeqCst), 1);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(accepted.load(Ordering::SeqCst), 0);

        gate.allow(&inside.to_string());
        // No TLS server there: the gate connects, then the handshake fails.
        let failed = client(&gate).get(&url).send().await.unwrap();
        assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(registry_hits.load(Ordering::SeqCst), 2);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    /// Sends `CONNECT target` to the gate at `proxy`; the status line's start and the stream.
    async fn tunnel(proxy: SocketAddr, target: SocketAddr) -> (String, tokio::net::TcpStream) {
        let mut stream = tokio::net::TcpStream::connect(proxy).await.unwrap();
        let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = vec![0; 12];
        stream.read_exact(&mut head).await.unwrap();
        (String::from_utf8(head).unwrap(), stream)
    }

    /// A CONNECT tunnel (how HTTPS goes through the gate), written by hand: `403` to a target
    /// not named; `200` and bytes relayed both ways once it is.
    #[tokio::test]
    async fn a_tunnel_opens_to_a_named_target_only() {
        let gate = Gate::start(Arc::default()).unwrap();
        gate.serve();
        let echo = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        let proxy: reqwest::Url = gate.url().parse().unwrap();
        let proxy = SocketAddr::new(
            proxy.host_str().unwrap().parse().unwrap(),
            proxy.port().unwrap(),
        );
        let (head, _) = tunnel(proxy, target).await;
        assert_eq!(head, "HTTP/1.1 403");

        gate.allow(&target.to_string());
        let (head, mut stream) = tunnel(proxy, target).await;
        assert_eq!(head, "HTTP/1.1 200");
        let mut rest = [0u8; 1];
        let mut end = Vec::new();
        while !end.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut rest).await.unwrap();
            end.push(rest[0]);
        }
        stream.write_all(b"tls bytes").await.unwrap();
        let mut echoed = [0u8; 9];
        stream.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"tls bytes");
    }

    /// The OCI client itself (not only a client set up like it) goes through the gate: a
    /// registry that redirects its manifest to another loopback address gets the pull refused
    /// without a connection there.
    #[tokio::test]
    async fn the_registry_client_connects_only_through_the_gate() {
        let (inside, accepted) = listener("127.0.0.2").await;
        let redirect: &'static str = format!("http://{inside}/v2/secret").leak();
        let (registry, registry_hits) = server("127.0.0.1", redirect).await;
        let client = super::super::Registry::new(
            super::super::RegistryOptions {
                credentials: super::super::Credentials::none(),
                insecure: vec![registry.to_string()],
            },
            Arc::default(),
        )
        .unwrap();
        let reference = format!("{registry}/plugins/hello:1").parse().unwrap();
        let error = client.manifest_digest(&reference).await.unwrap_err();
        assert!(registry_hits.load(Ordering::SeqCst) >= 1);
        assert_eq!(accepted.load(Ordering::SeqCst), 0, "{error}");
        let error = error.to_string();
        assert!(
            error.starts_with(&format!("{reference}: {inside} denied:"))
                && error.contains("loopback"),
            "{error}"
        );
    }
}
