//! Outbound HTTP for plugins: `wasi:http/outgoing-handler` only to the job's allowed hosts,
//! through the egress guard ([`super::egress`]): the host is resolved once, every address
//! checked against the entries (wildcards reach only public addresses), and the request goes
//! to an address that passed. Anything else is refused with `HttpRequestDenied`, which the
//! plugin sees, and a line in the run log that names the host, the address and the rule.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::egress::{Denial, Egress, EgressError, HostPattern, OwnAddresses, Target};
use super::run_log::RunLog;

/// Largest response body a plugin may read, by default.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The `wasi:http` hooks of one run.
pub struct HttpPolicy {
    egress: Egress,
    log: RunLog,
    max_response_bytes: usize,
    connect_timeout: Duration,
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
        Box::new(async move {
            let uri = request.uri();
            let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?;
            let use_tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
            let target = Target::parse(host);
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
            Ok((response, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

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
}
