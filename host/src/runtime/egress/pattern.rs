//! One allowed-host entry: `*`, `*.domain`, a host name, an IP address (any spelling) or a
//! CIDR range, each optionally with `:port` (an IPv6 address or range in brackets then:
//! `[::1]:8080`, `[fd00::/8]:443`).

use std::fmt;
use std::net::IpAddr;

use super::address::canonical;
use super::spelling::{Target, normalise_name, parse_ip};

/// One allowed-host entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    pub(super) host: HostMatch,
    pub(super) port: Option<u16>,
}

/// What an entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum HostMatch {
    /// `*`: any host, public addresses only.
    Any,
    /// `*.domain`: any subdomain (not the domain itself), public addresses only.
    Subdomain(String),
    /// A host name: the addresses it resolves to, private and loopback ones too.
    Name(String),
    /// An IP address: that address, whatever its range and however the request spells it.
    Ip(IpAddr),
    /// A CIDR range: every address in it.
    Cidr(IpAddr, u8),
}

/// An allowed-host entry that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid allowed host {pattern:?}: {reason}")]
pub struct HostPatternError {
    pub pattern: String,
    pub reason: &'static str,
}

const PORT_REASON: &str = "port must be a number from 1 to 65535";

impl HostPattern {
    /// Read one entry (see the module documentation for the forms).
    pub fn parse(pattern: &str) -> Result<Self, HostPatternError> {
        let err = |reason| HostPatternError {
            pattern: pattern.to_string(),
            reason,
        };
        let trimmed = pattern.trim();
        if trimmed.contains("://") {
            return Err(err("give a host (and optional :port), not a URL"));
        }
        let (host, port) = split_port(trimmed).map_err(err)?;
        let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        if let Some((net, prefix)) = bracketed.unwrap_or(host).split_once('/') {
            let ip = parse_ip(net)
                .filter(|ip| bracketed.is_none() || ip.is_ipv6())
                .ok_or_else(|| err("give a host (and optional :port), not a URL"))?;
            return cidr(ip, prefix)
                .map(|host| HostPattern { host, port })
                .map_err(err);
        }
        if let Some(ip) = parse_ip(host) {
            return Ok(HostPattern {
                host: HostMatch::Ip(ip),
                port,
            });
        }
        if bracketed.is_some() {
            return Err(err("not a valid IPv6 address"));
        }
        let host = match host.to_ascii_lowercase() {
            // `*.` is no domain; `name.` is `name`.
            h if h == "*." => return Err(err("expected *.domain with a valid domain")),
            h if h.len() > 1 && h.ends_with('.') => normalise_name(&h),
            h => h,
        };
        let host = if host == "*" {
            HostMatch::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if !valid_name(domain) {
                return Err(err("expected *.domain with a valid domain"));
            }
            HostMatch::Subdomain(domain.to_string())
        } else if valid_name(&host) {
            HostMatch::Name(host)
        } else {
            return Err(err("not a valid host name, IP address or CIDR range"));
        };
        Ok(HostPattern { host, port })
    }

    /// Whether this entry's port (if it has one) is `port`.
    pub(super) fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    /// Whether this entry names `target` (by name, for the name forms).
    pub(super) fn names(&self, target: &Target) -> bool {
        match (&self.host, target) {
            (HostMatch::Any, _) => true,
            (HostMatch::Subdomain(domain), Target::Name(name)) => name
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            (HostMatch::Name(n), Target::Name(name)) => n == name,
            _ => false,
        }
    }

    /// Whether this entry is an IP address or CIDR range containing `ip`.
    pub(super) fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self.host {
            HostMatch::Ip(a) => a == ip,
            HostMatch::Cidr(net, prefix) => in_net(ip, net, prefix),
            _ => false,
        }
    }

    /// Whether this is a wildcard entry (`*`, `*.domain`).
    pub fn is_wildcard(&self) -> bool {
        matches!(self.host, HostMatch::Any | HostMatch::Subdomain(_))
    }
}

/// `host` and its port, from `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address
/// (no port then).
fn split_port(text: &str) -> Result<(&str, Option<u16>), &'static str> {
    if text.starts_with('[') {
        let Some(end) = text.find(']') else {
            return Err("an IPv6 address in brackets needs its closing ]");
        };
        let (host, rest) = text.split_at(end + 1);
        return match rest {
            "" => Ok((host, None)),
            _ => match rest.strip_prefix(':') {
                Some(port) => Ok((host, Some(parse_port(port)?))),
                None => Err("expected :port after the bracketed address"),
            },
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Ok((host, Some(parse_port(port)?))),
        _ => Ok((text, None)),
    }
}

fn parse_port(text: &str) -> Result<u16, &'static str> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(PORT_REASON),
        Ok(port) => Ok(port),
    }
}

fn cidr(ip: IpAddr, prefix: &str) -> Result<HostMatch, &'static str> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or("a CIDR prefix length is 0 to 32 (IPv4) or 0 to 128 (IPv6)")?;
    if network(ip, prefix) != ip {
        return Err("the address of a CIDR range must have no bits set past its prefix");
    }
    Ok(HostMatch::Cidr(ip, prefix))
}

/// `ip` with every bit past `prefix` cleared.
fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    ip.is_ipv4() == net.is_ipv4() && network(ip, prefix) == network(net, prefix)
}

/// Dot-separated labels of letters, digits, `-` and `_`, each 1 to 63 characters.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = self.port.is_some();
        match &self.host {
            HostMatch::Any => f.write_str("*")?,
            HostMatch::Subdomain(d) => write!(f, "*.{d}")?,
            HostMatch::Name(h) => f.write_str(h)?,
            HostMatch::Ip(IpAddr::V6(ip)) if bracket => write!(f, "[{ip}]")?,
            HostMatch::Ip(ip) => write!(f, "{ip}")?,
            HostMatch::Cidr(IpAddr::V6(ip), p) if bracket => write!(f, "[{ip}/{p}]")?,
            HostMatch::Cidr(ip, p) => write!(f, "{ip}/{p}")?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Parse a list of entries, naming the first bad one.
pub fn parse_allowed_hosts(patterns: &[String]) -> Result<Vec<HostPattern>, HostPatternError> {
    patterns.iter().map(|p| HostPattern::parse(p)).collect()
}
