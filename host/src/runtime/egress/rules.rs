//! The decision for one resolved address: which entry allows it, or why it is refused. A pure
//! function of the entries, the target as the request names it, the address and port, and
//! whether that address is the replica's own.
//!
//! | entry | reaches |
//! |---|---|
//! | `*`, `*.domain` | public unicast addresses only |
//! | a host name | the addresses the name resolves to when they are public, private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10) or loopback — never link-local, the cloud metadata addresses, unspecified, multicast, broadcast or reserved ones, nor this replica's own API address |
//! | an IP address | that address, whatever its range (this replica's own API too) |
//! | a CIDR range | every address in it, whatever its range |
//!
//! A port on an entry limits it to that port.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::address::{AddressClass, Classified, canonical, classify};
use super::pattern::{HostMatch, HostPattern};
use super::spelling::Target;

/// Why an entry that names the target does not reach one of its addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A wildcard entry and an address that is not public.
    NotPublic { class: Classified },
    /// A host-name entry and an address of a range only an IP or CIDR entry reaches.
    NeedsAddressEntry { class: Classified },
    /// The replica's own API address, which only an IP or CIDR entry reaches.
    OwnAddress,
}

/// The outcome for one resolved address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The address may be connected to; the entry that allows it.
    Allowed(HostPattern),
    /// Entries name the target but none reaches this address: the first such entry and why.
    Refused(HostPattern, Refusal),
    /// No entry names the target or contains the address.
    NotListed,
}

/// What `pattern` says about connecting to `address` for a request to `target`.
fn judge(
    pattern: &HostPattern,
    target: &Target,
    address: SocketAddr,
    own: bool,
) -> Option<Verdict> {
    if !pattern.port_matches(address.port()) {
        return None;
    }
    let ip = canonical(address.ip());
    if pattern.contains(ip) {
        return Some(Verdict::Allowed(pattern.clone()));
    }
    if !pattern.names(target) {
        return None;
    }
    let class = classify(ip);
    let refusal = match &pattern.host {
        HostMatch::Any | HostMatch::Subdomain(_) if class.class != AddressClass::Public => {
            Refusal::NotPublic { class }
        }
        HostMatch::Name(_) if !name_reaches(class.class) => Refusal::NeedsAddressEntry { class },
        _ if own => Refusal::OwnAddress,
        _ => return Some(Verdict::Allowed(pattern.clone())),
    };
    Some(Verdict::Refused(pattern.clone(), refusal))
}

/// The classes a host-name entry reaches.
fn name_reaches(class: AddressClass) -> bool {
    matches!(
        class,
        AddressClass::Public
            | AddressClass::Private
            | AddressClass::Shared
            | AddressClass::Loopback
    )
}

/// The verdict of `patterns` on connecting to `address` for a request to `target`: the first
/// entry that allows it, else the first that refuses it, else not listed. `own`: whether
/// `address` is this replica's own API address.
pub fn decide(
    patterns: &[HostPattern],
    target: &Target,
    address: SocketAddr,
    own: bool,
) -> Verdict {
    let mut refused = None;
    for pattern in patterns {
        match judge(pattern, target, address, own) {
            Some(allowed @ Verdict::Allowed(_)) => return allowed,
            Some(verdict) => {
                refused.get_or_insert(verdict);
            }
            None => {}
        }
    }
    refused.unwrap_or(Verdict::NotListed)
}

/// A request the entries do not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// The host as the request named it.
    pub target: Target,
    pub port: u16,
    /// The address refused and why; `None` when no entry names the host.
    pub refused: Option<(IpAddr, HostPattern, Refusal)>,
    /// The entries in force, for the message.
    pub allowed: Vec<HostPattern>,
}

impl fmt::Display for Denial {
    /// `HOST:PORT denied: …` naming the address, the entry and the rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} denied: ", self.target, self.port)?;
        let Some((ip, pattern, refusal)) = &self.refused else {
            return f.write_str("not in the allowed hosts");
        };
        let address = SocketAddr::new(*ip, self.port);
        let at = match &self.target {
            Target::Ip(_) => format!("{address} is"),
            Target::Name(_) => format!("it resolves to {address},"),
        };
        match refusal {
            Refusal::NotPublic { class } => write!(
                f,
                "{at} {class}, and the wildcard entry {pattern:?} reaches only public addresses; \
                 allow it with an entry naming the address ({}) or its range",
                ip_entry(address),
                pattern = pattern.to_string(),
            ),
            Refusal::NeedsAddressEntry { class } => write!(
                f,
                "{at} {class}, which the host-name entry {pattern:?} does not reach; \
                 allow it with an entry naming the address ({})",
                ip_entry(address),
                pattern = pattern.to_string(),
            ),
            Refusal::OwnAddress => write!(
                f,
                "{at} this replica's own API address, which the entry {pattern:?} does not reach; \
                 allow it with an entry naming the address ({})",
                ip_entry(address),
                pattern = pattern.to_string(),
            ),
        }
    }
}

/// The entry that would allow exactly `address`.
fn ip_entry(address: SocketAddr) -> String {
    match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", address.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", address.port()),
    }
}
