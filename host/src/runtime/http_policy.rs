//! Outbound HTTP for plugins: `wasi:http/outgoing-handler` only to the job's allowed hosts.
//!
//! A pattern is `host`, `*.domain` (any subdomain, not the domain itself) or `*` (any host),
//! each optionally followed by `:port`. Without a port, any port matches. Hosts compare
//! case-insensitively. Anything else is refused with `HttpRequestDenied`, which the plugin sees,
//! and a line in the run log that says which host was refused and what is allowed.

use std::fmt;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::run_log::RunLog;

/// Largest response body a plugin may read, by default.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

/// One allowed-host pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    host: HostMatch,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostMatch {
    Any,
    Exact(String),
    Subdomain(String),
}

/// An allowed-host pattern that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid allowed host {pattern:?}: {reason}")]
pub struct HostPatternError {
    pub pattern: String,
    pub reason: &'static str,
}

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<Self, HostPatternError> {
        let err = |reason| HostPatternError {
            pattern: pattern.to_string(),
            reason,
        };
        let trimmed = pattern.trim();
        if trimmed.contains("://") || trimmed.contains('/') {
            return Err(err("give a host (and optional :port), not a URL"));
        }
        let (host, port) = match trimmed.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| err("port must be a number from 1 to 65535"))?;
                if port == 0 {
                    return Err(err("port must be a number from 1 to 65535"));
                }
                (h, Some(port))
            }
            _ => (trimmed, None),
        };
        let host = host.to_ascii_lowercase();
        let valid = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
        };
        let host = if host == "*" {
            HostMatch::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if !valid(domain) {
                return Err(err("expected *.domain with a valid domain"));
            }
            HostMatch::Subdomain(domain.to_string())
        } else if valid(&host) {
            HostMatch::Exact(host)
        } else {
            return Err(err("not a valid host name or IPv4 address"));
        };
        Ok(HostPattern { host, port })
    }

    /// Whether a request to `host:port` is allowed by this pattern.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host = host.to_ascii_lowercase();
        match &self.host {
            HostMatch::Any => true,
            HostMatch::Exact(h) => *h == host,
            HostMatch::Subdomain(domain) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            HostMatch::Any => f.write_str("*")?,
            HostMatch::Exact(h) => f.write_str(h)?,
            HostMatch::Subdomain(d) => write!(f, "*.{d}")?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Parse a list of patterns, naming the first bad one.
pub fn parse_allowed_hosts(patterns: &[String]) -> Result<Vec<HostPattern>, HostPatternError> {
    patterns.iter().map(|p| HostPattern::parse(p)).collect()
}

/// The `wasi:http` hooks of one run.
pub struct HttpPolicy {
    allowed: Vec<HostPattern>,
    log: RunLog,
    max_response_bytes: usize,
    connect_timeout: Duration,
}

impl HttpPolicy {
    pub fn new(allowed: Vec<HostPattern>, log: RunLog) -> Self {
        HttpPolicy {
            allowed,
            log,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            connect_timeout: Duration::from_secs(10),
        }
    }

    fn check(&self, uri: &http::Uri) -> Result<(), String> {
        let Some(host) = uri.host() else {
            return Err("request has no host".into());
        };
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        if self.allowed.iter().any(|p| p.matches(host, port)) {
            return Ok(());
        }
        let allowed = if self.allowed.is_empty() {
            "none (set the job's allowed_hosts)".to_string()
        } else {
            self.allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(format!(
            "outbound HTTP to {host}:{port} denied: not in this job's allowed_hosts (allowed: {allowed})"
        ))
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
        if let Err(reason) = self.check(request.uri()) {
            self.log.line("error", &reason);
            tracing::warn!(%reason, "plugin HTTP request denied");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let limit = self.max_response_bytes;
        let mut options = options.unwrap_or_default();
        options.connect_timeout.get_or_insert(self.connect_timeout);
        Box::new(async move {
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
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
    use super::*;

    fn allowed(patterns: &[&str], host: &str, port: u16) -> bool {
        patterns
            .iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .any(|p| p.matches(host, port))
    }

    #[test]
    fn exact_wildcard_and_port_patterns() {
        assert!(allowed(&["example.com"], "EXAMPLE.com", 443));
        assert!(allowed(&["example.com"], "example.com", 8080));
        assert!(!allowed(&["example.com"], "api.example.com", 443));
        assert!(allowed(&["*.example.com"], "api.example.com", 443));
        assert!(allowed(&["*.example.com"], "a.b.example.com", 80));
        assert!(!allowed(&["*.example.com"], "example.com", 443));
        assert!(!allowed(&["*.example.com"], "badexample.com", 443));
        assert!(allowed(&["127.0.0.1:8080"], "127.0.0.1", 8080));
        assert!(!allowed(&["127.0.0.1:8080"], "127.0.0.1", 8081));
        assert!(allowed(&["*"], "anything.test", 1));
        assert!(!allowed(&[], "example.com", 443));
    }

    #[test]
    fn bad_patterns_are_rejected_with_a_reason() {
        for bad in [
            "https://example.com",
            "example.com:0",
            "example.com:http",
            "*.",
            "a..b",
            "",
        ] {
            let err = HostPattern::parse(bad).unwrap_err();
            assert_eq!(err.pattern, bad);
        }
        assert_eq!(
            HostPattern::parse("http://x").unwrap_err().to_string(),
            "invalid allowed host \"http://x\": give a host (and optional :port), not a URL"
        );
    }

    #[test]
    fn denial_message_names_host_and_allowed_list() {
        let policy = HttpPolicy::new(
            vec![HostPattern::parse("api.example.com").unwrap()],
            RunLog::new(Default::default()),
        );
        let err = policy
            .check(&"http://evil.test/x".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            err,
            "outbound HTTP to evil.test:80 denied: not in this job's allowed_hosts (allowed: api.example.com)"
        );
        assert!(
            policy
                .check(&"https://api.example.com/".parse().unwrap())
                .is_ok()
        );
    }
}
