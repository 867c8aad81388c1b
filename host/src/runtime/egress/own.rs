//! The replica's own API addresses, which only an IP or CIDR entry reaches: the address it
//! listens on, the addresses its advertise address resolves to, and — when it listens on every
//! interface (`0.0.0.0`, `::`) — every address of this machine at the listen port.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::RwLock;

use super::address::canonical;

/// The replica's own API addresses. Empty until [`OwnAddresses::set`] (a runtime outside a
/// replica, as in tests of the runtime alone, has none).
#[derive(Debug, Default)]
pub struct OwnAddresses(RwLock<Known>);

#[derive(Debug, Default, Clone)]
struct Known {
    /// Exact socket addresses (canonical).
    sockets: Vec<SocketAddr>,
    /// The listen port, when the replica listens on every interface: any local address at
    /// this port is the replica.
    any_local_port: Option<u16>,
}

impl OwnAddresses {
    /// Record the replica's bound listen address and the addresses its advertise address
    /// resolved to.
    pub fn set(&self, listen: SocketAddr, advertised: &[SocketAddr]) {
        let mut known = Known::default();
        if listen.ip().is_unspecified() {
            known.any_local_port = Some(listen.port());
        } else {
            known.sockets.push(canonical_socket(listen));
        }
        known
            .sockets
            .extend(advertised.iter().copied().map(canonical_socket));
        known.sockets.sort();
        known.sockets.dedup();
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = known;
    }

    /// Whether a connection to `address` reaches this replica's API.
    pub fn contains(&self, address: SocketAddr) -> bool {
        let address = canonical_socket(address);
        let known = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        known.sockets.contains(&address)
            || known
                .any_local_port
                .is_some_and(|port| port == address.port() && is_local(address.ip()))
    }
}

fn canonical_socket(address: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical(address.ip()), address.port())
}

/// Whether `ip` is one of this machine's addresses: the system lets a socket bind only to
/// those (binding sends nothing). Loopback and unspecified addresses always are.
pub fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The addresses `advertise` (`host:port`) resolves to, for [`OwnAddresses::set`]; none (with
/// a warning) when it does not resolve.
pub async fn resolve_own(advertise: &str) -> Vec<SocketAddr> {
    match tokio::net::lookup_host(advertise).await {
        Ok(addresses) => addresses.collect(),
        Err(e) => {
            tracing::warn!(%advertise, error = %e, "cannot resolve the advertise address; plugins are kept off the listen address only");
            Vec::new()
        }
    }
}
