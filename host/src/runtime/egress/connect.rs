//! Resolve, check, connect: the one way out. A host name is resolved once; every address is
//! checked ([`super::rules::decide`]); the connection is made to an address that passed,
//! never by name again — so a name that answers differently the second time (DNS rebinding)
//! gains nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::own::OwnAddresses;
use super::pattern::HostPattern;
use super::rules::{Denial, Verdict, decide};
use super::spelling::Target;

/// What can go wrong on the way out.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// The entries do not allow the request; the message names host, address and rule.
    #[error("{0}")]
    Denied(Box<Denial>),
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// The name resolved to no address.
    #[error("{host} has no address")]
    NoAddress { host: String },
    /// No allowed address accepted a connection.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: SocketAddr,
        source: std::io::Error,
    },
    /// Resolving and connecting took longer than allowed.
    #[error("connecting to {host}:{port} timed out")]
    Timeout { host: String, port: u16 },
    /// The URL cannot be used.
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
}

/// An address that passed the check, and the entry that allowed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permitted {
    pub address: SocketAddr,
    pub entry: HostPattern,
}

/// An open connection to a permitted address.
#[derive(Debug)]
pub struct Connection {
    pub stream: TcpStream,
    pub permitted: Permitted,
}

/// Outbound connections under a list of allowed-host entries. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Egress {
    allowed: Arc<[HostPattern]>,
    own: Arc<OwnAddresses>,
}

impl Egress {
    /// Connections allowed by `allowed`; `own`: the replica's API addresses (wildcard and
    /// host-name entries never reach them).
    pub fn new(allowed: Vec<HostPattern>, own: Arc<OwnAddresses>) -> Self {
        Egress {
            allowed: allowed.into(),
            own,
        }
    }

    /// Any public address, nothing inside (the entry `*`).
    pub fn public_only(own: Arc<OwnAddresses>) -> Self {
        Egress::new(vec![HostPattern::parse("*").expect("* parses")], own)
    }

    /// A configured `target` (`host` or `host:port`, as an allowed-host entry: private and
    /// loopback addresses then allowed, see [`super::rules`]) and any public address besides
    /// (for redirects away from it).
    pub fn configured(
        target: &str,
        own: Arc<OwnAddresses>,
    ) -> Result<Self, super::HostPatternError> {
        Ok(Egress::new(
            vec![
                HostPattern::parse(target)?,
                HostPattern::parse("*").expect("* parses"),
            ],
            own,
        ))
    }

    /// The entries in force.
    pub fn allowed(&self) -> &[HostPattern] {
        &self.allowed
    }

    /// Resolve `host` (a name, or an IP address in any spelling) once and return the addresses
    /// a connection on `port` may use, in the resolver's order, each with the entry that allows
    /// it. [`EgressError::Denied`] names the first refused address when none is allowed.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<Permitted>, EgressError> {
        let target = Target::parse(host);
        let addresses: Vec<SocketAddr> = match &target {
            Target::Ip(ip) => vec![SocketAddr::new(*ip, port)],
            Target::Name(name) => tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| EgressError::Resolve {
                    host: name.clone(),
                    reason: e.to_string(),
                })?
                .map(|a| SocketAddr::new(super::address::canonical(a.ip()), a.port()))
                .collect(),
        };
        if addresses.is_empty() {
            return Err(EgressError::NoAddress {
                host: target.to_string(),
            });
        }
        self.check(&target, &addresses)
    }

    /// The pure part of [`Self::resolve`]: the permitted subset of `addresses` for a request
    /// to `target`.
    pub fn check(
        &self,
        target: &Target,
        addresses: &[SocketAddr],
    ) -> Result<Vec<Permitted>, EgressError> {
        let mut permitted = Vec::new();
        let mut refused = None;
        for &address in addresses {
            let own = self.own.contains(address);
            match decide(&self.allowed, target, address, own) {
                Verdict::Allowed(entry) => permitted.push(Permitted { address, entry }),
                Verdict::Refused(entry, why) => {
                    refused.get_or_insert((address.ip(), entry, why));
                }
                Verdict::NotListed => {}
            }
        }
        if permitted.is_empty() {
            let port = addresses.first().map_or(0, |a| a.port());
            return Err(EgressError::Denied(Box::new(Denial {
                target: target.clone(),
                port,
                refused,
                allowed: self.allowed.to_vec(),
            })));
        }
        Ok(permitted)
    }

    /// Resolve, check and connect within `timeout`: the connection goes to a permitted address
    /// (the next one when one refuses), never to a name resolved a second time.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Connection, EgressError> {
        let deadline = Instant::now() + timeout;
        let timed_out = || EgressError::Timeout {
            host: host.to_string(),
            port,
        };
        let permitted = tokio::time::timeout(timeout, self.resolve(host, port))
            .await
            .map_err(|_| timed_out())??;
        let mut last = None;
        for p in permitted {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, TcpStream::connect(p.address)).await {
                Err(_) => return Err(timed_out()),
                Ok(Ok(stream)) => {
                    return Ok(Connection {
                        stream,
                        permitted: p,
                    });
                }
                Ok(Err(source)) => {
                    last = Some(EgressError::Connect {
                        address: p.address,
                        source,
                    })
                }
            }
        }
        Err(last.expect("resolve returns at least one permitted address"))
    }

    /// A request to `url` (`http` or `https`): its host resolved and checked now, the request
    /// sent on a client pinned to the permitted addresses — it resolves nothing itself, uses
    /// no proxy and follows no redirect (follow one by calling again with the `Location`, so
    /// that the new host is checked too). `builder` sets everything else (timeouts, TLS).
    pub async fn http_request(
        &self,
        method: reqwest::Method,
        url: &str,
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::RequestBuilder, EgressError> {
        let bad = |reason: &str| EgressError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        // Parsed once, by the parser the client uses: the host checked is the host connected to.
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("only http and https URLs"));
        }
        let host = parsed.host_str().ok_or_else(|| bad("no host"))?.to_string();
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| bad("no port"))?;
        let permitted = self.resolve(&host, port).await?;
        let pinned = Pinned(permitted.iter().map(|p| p.address).collect());
        let client = builder
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(pinned))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(client.request(method, parsed))
    }
}

/// A resolver that answers every name with the addresses already checked: the pinned client
/// of [`Egress::http_request`] cannot look anything up.
struct Pinned(Vec<SocketAddr>);

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addresses = self.0.clone();
        Box::pin(async move { Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs) })
    }
}
