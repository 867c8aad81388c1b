//! Outbound HTTP for plugins: `wasi:http/outgoing-handler` only to the job's allowed hosts,
//! through the egress guard ([`super::egress`]): the host is resolved once, every address
//! checked against the entries (wildcards reach only public addresses), and the request goes
//! to an address that passed. Anything else is refused with `HttpRequestDenied`, which the
//! plugin sees, and a line in the run log that names the host, the address and the rule.
//!
//! What one run may hold is bounded: at most [`MAX_CONNECTIONS_PER_RUN`] connections open at
//! once (a request past them waits for one to close, up to its connect timeout, then fails
//! with `ConnectionLimitReached`), [`DEFAULT_MAX_RESPONSE_BYTES`] of response body per request,
//! and the run's own timeout over everything.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::egress::{Denial, Egress, EgressError, HostPattern, OwnAddresses, Target};
use super::run_log::RunLog;

/// Largest response body a plugin may read, by default.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Connections one run may have open at once.
pub const MAX_CONNECTIONS_PER_RUN: usize = 16;

/// The `wasi:http` hooks of one run.
pub struct HttpPolicy {
    egress: Egress,
    log: RunLog,
    max_response_bytes: usize,
    connect_timeout: Duration,
    /// One permit per connection the run may open; a connection holds its permit until it
    /// closes (or the run ends).
    connections: Arc<Semaphore>,
}

/// The run-log line of a refused request.
fn denial_message(denial: &Denial) -> String {
    if denial.refused.is_some() {
        return format!("outbound HTTP to {denial}");
    }
    let allowed = if denial.allowed.is_empty() {
        "none (set the job's allowed_hosts)".to_string()
    } else {
        denial
            .allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "outbound HTTP to {}:{} denied: not in this job's allowed_hosts (allowed: {allowed})",
        denial.target, denial.port
    )
}

/// What the plugin sees when the way out fails.
fn http_error(e: &EgressError) -> HttpError {
    match e {
        EgressError::Denied(_) => HttpError::HttpRequestDenied,
        EgressError::Resolve { .. } => HttpError::DnsError {
            rcode: None,
            info_code: None,
        },
        EgressError::NoAddress { .. } => HttpError::DestinationNotFound,
        EgressError::Timeout { .. } => HttpError::ConnectionTimeout,
        EgressError::Connect { source, .. }
            if source.kind() == std::io::ErrorKind::ConnectionRefused =>
        {
            HttpError::ConnectionRefused
        }
        EgressError::Connect { .. } => HttpError::DestinationUnavailable,
        EgressError::Url { .. } => HttpError::HttpRequestUriInvalid,
    }
}

impl HttpPolicy {
    /// Requests to `allowed` only; `own`: the replica's API addresses.
    pub fn new(allowed: Vec<HostPattern>, own: Arc<OwnAddresses>, log: RunLog) -> Self {
        HttpPolicy {
            egress: Egress::new(allowed, own),
            log,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            connect_timeout: Duration::from_secs(10),
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS_PER_RUN)),
        }
    }
}

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let limit = self.max_response_bytes;
        let mut options = options.unwrap_or_default();
        let connect_timeout = *options.connect_timeout.get_or_insert(self.connect_timeout);
        let (egress, log) = (self.egress.clone(), self.log.clone());
        let connections = self.connections.clone();
        Box::new(async move {
            let uri = request.uri();
            let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?;
            let use_tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
            let target = Target::parse(host);
            let Ok(Ok(permit)) =
                tokio::time::timeout(connect_timeout, connections.acquire_owned()).await
            else {
                log.line(
                    "error",
                    &format!(
                        "outbound HTTP to {target}:{port} refused: this run already has \
                         {MAX_CONNECTIONS_PER_RUN} connections open"
                    ),
                );
                return Err(HttpError::ConnectionLimitReached);
            };
            let connection = match egress.connect(host, port, connect_timeout).await {
                Ok(connection) => connection,
                Err(e) => {
                    let message = match &e {
                        EgressError::Denied(denial) => {
                            crate::metrics::global().egress_denied();
                            let message = denial_message(denial);
                            tracing::warn!(reason = %message, "plugin HTTP request denied");
                            message
                        }
                        other => format!("outbound HTTP to {target}:{port} failed: {other}"),
                    };
                    log.line("error", &message);
                    return Err(http_error(&e));
                }
            };
            let (response, io) =
                super::http_send::send(connection.stream, &target, use_tls, request, options)
                    .await?;
            let response = response.map(|body| {
                http_body_util::Limited::new(body, limit)
                    .map_err(move |e| match e.downcast::<HttpError>() {
                        Ok(e) => *e,
                        Err(_) => HttpError::HttpResponseBodySize(Some(limit as u64)),
                    })
                    .boxed_unsync()
            });
            // The connection lives as long as this future (it is dropped with the response or
            // the run): so does its permit.
            let io = async move {
                let _permit = permit;
                io.await
            };
            Ok((response, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::pin::Pin;

    use bytes::Bytes;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::runtime::run_log::LogLimits;

    fn denial(patterns: &[&str], host: &str, addresses: &[&str]) -> String {
        let egress = Egress::new(
            patterns
                .iter()
                .map(|p| HostPattern::parse(p).unwrap())
                .collect(),
            Arc::default(),
        );
        let addresses: Vec<SocketAddr> = addresses.iter().map(|a| a.parse().unwrap()).collect();
        match egress.check(&Target::parse(host), &addresses) {
            Err(EgressError::Denied(d)) => denial_message(&d),
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn denial_message_names_host_and_allowed_list() {
        assert_eq!(
            denial(&["api.example.com"], "evil.test", &["93.184.215.14:80"]),
            "outbound HTTP to evil.test:80 denied: not in this job's allowed_hosts (allowed: api.example.com)"
        );
        assert_eq!(
            denial(&[], "example.com", &["93.184.215.14:443"]),
            "outbound HTTP to example.com:443 denied: not in this job's allowed_hosts (allowed: none (set the job's allowed_hosts))"
        );
    }

    #[test]
    fn denial_message_names_host_address_and_rule() {
        assert_eq!(
            denial(&["*"], "localhost", &["127.0.0.1:8080"]),
            "outbound HTTP to localhost:8080 denied: it resolves to 127.0.0.1:8080, a loopback \
             address (127.0.0.0/8), and the wildcard entry \"*\" reaches only public addresses; \
             allow it with an entry naming the address (127.0.0.1:8080) or its range"
        );
        assert_eq!(
            denial(&["*"], "169.254.169.254", &["169.254.169.254:80"]),
            "outbound HTTP to 169.254.169.254:80 denied: 169.254.169.254:80 is the cloud \
             metadata address (169.254.169.254), and the wildcard entry \"*\" reaches only \
             public addresses; allow it with an entry naming the address (169.254.169.254:80) \
             or its range"
        );
        assert_eq!(
            denial(
                &["metadata.internal"],
                "metadata.internal",
                &["169.254.169.254:80"]
            ),
            "outbound HTTP to metadata.internal:80 denied: it resolves to 169.254.169.254:80, \
             the cloud metadata address (169.254.169.254), which the host-name entry \
             \"metadata.internal\" does not reach; allow it with an entry naming the address \
             (169.254.169.254:80)"
        );
    }

    /// A listener on loopback that answers each request with `answer` and then holds the
    /// connection open.
    async fn listener(answer: Vec<u8>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(&answer).await;
                held.push(stream);
            }
        });
        (address, task)
    }

    /// Headers that promise a body which never comes.
    fn headers_only() -> Vec<u8> {
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec()
    }

    type Exchange = (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    );

    async fn get(policy: &mut HttpPolicy, address: SocketAddr) -> Result<Exchange, HttpError> {
        let body = http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = http::Request::get(format!("http://{address}/"))
            .body(body)
            .unwrap();
        let options = RequestOptions {
            connect_timeout: Some(Duration::from_millis(300)),
            ..RequestOptions::default()
        };
        Pin::from(policy.send_request(request, Some(options), Box::new(async { Ok(()) }))).await
    }

    #[tokio::test]
    async fn a_run_holds_at_most_so_many_connections_open() {
        let (address, listener) = listener(headers_only()).await;
        let log = RunLog::new(LogLimits::default());
        let allowed = vec![HostPattern::parse(&address.to_string()).unwrap()];
        let mut policy = HttpPolicy::new(allowed, Arc::default(), log.clone());
        let mut open = Vec::new();
        for _ in 0..MAX_CONNECTIONS_PER_RUN {
            let (response, io) = get(&mut policy, address).await.expect("a connection");
            assert_eq!(response.status(), 200);
            open.push((response, io));
        }
        let refused = get(&mut policy, address).await;
        assert!(
            matches!(refused, Err(HttpError::ConnectionLimitReached)),
            "{:?}",
            refused.map(|(response, _)| response.status())
        );
        assert!(
            log.text().contains(&format!(
                "outbound HTTP to 127.0.0.1:{} refused: this run already has \
                 {MAX_CONNECTIONS_PER_RUN} connections open",
                address.port()
            )),
            "{}",
            log.text()
        );
        // A connection that closes gives its place to the next request.
        drop(open.pop());
        let (response, _io) = get(&mut policy, address).await.expect("a place again");
        assert_eq!(response.status(), 200);
        listener.abort();
    }

    #[tokio::test]
    async fn a_response_body_past_the_limit_fails_the_read() {
        let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 4096\r\n\r\n".to_vec();
        answer.extend([b'x'; 4096]);
        let (address, listener) = listener(answer).await;
        let allowed = vec![HostPattern::parse(&address.to_string()).unwrap()];
        let log = RunLog::new(LogLimits::default());
        let mut policy = HttpPolicy::new(allowed, Arc::default(), log);
        for (limit, whole) in [(4096, true), (4095, false)] {
            policy.max_response_bytes = limit;
            let (response, io) = get(&mut policy, address).await.expect("a connection");
            let io = tokio::spawn(Pin::from(io));
            let body = response.into_body().collect().await;
            match body {
                Ok(body) => {
                    assert!(whole, "{limit} bytes allowed, 4096 read");
                    assert_eq!(body.to_bytes().len(), 4096);
                }
                Err(e) => {
                    assert!(!whole, "{limit} bytes allowed, 4096 refused: {e}");
                    assert!(
                        matches!(e, HttpError::HttpResponseBodySize(Some(4095))),
                        "{e:?}"
                    );
                }
            }
            io.abort();
        }
        listener.abort();
    }
}
