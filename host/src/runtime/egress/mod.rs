//! Outbound connections that cannot reach the inside unless told to: the guard every client of
//! the host that connects somewhere a user chose goes through — plugins' `wasi:http` requests
//! (`runtime::http_policy`), and any other such client (webhooks, plugin registries).
//!
//! ## Entries
//! An allowed-host entry ([`HostPattern`]) is `*`, `*.domain`, a host name, an IP address or
//! a CIDR range, each with an optional `:port` (IPv6 in brackets: `[::1]:8080`,
//! `[fd00::/8]:443`). What each reaches ([`rules`]):
//!
//! | entry | reaches |
//! |---|---|
//! | `*`, `*.domain` | public unicast addresses only |
//! | a host name (`db.internal`, `localhost`) | every address the name resolves to that is public, private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10) or loopback — not link-local (169.254/16, fe80::/10), the cloud metadata addresses (169.254.169.254, fd00:ec2::254), unspecified, multicast, broadcast or reserved addresses, nor this replica's own API address |
//! | an IP address (`127.0.0.1:8080`, `[::1]`) | that address, whatever it is |
//! | a CIDR range (`10.0.0.0/8`, `169.254.169.254/32`) | every address in it, whatever they are |
//!
//! IPv4 addresses are read in every spelling the system resolver accepts (`2130706433`,
//! `0x7f.1`, `0177.0.0.1`, `127.1`), and IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) as
//! the IPv4 address they carry, in entries and in requests alike. NAT64
//! (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are judged by the IPv4 address inside.
//!
//! ## The check is on the address connected to
//! [`Egress::connect`] resolves the host once, checks every address it got ([`rules::decide`],
//! a pure function), and connects to an address that passed — never to the name again. A
//! name that resolves to a public address for the check and to `127.0.0.1` a moment later
//! (DNS rebinding) gains nothing: there is no moment later.
//!
//! ## API
//! - [`Egress::new`]`(entries, own)`: a guard over a list of entries; [`Egress::public_only`]
//!   (the entry `*`); [`Egress::configured`]`("registry.internal:5000", own)`: one target an
//!   operator configured (a host-name entry, so private and loopback addresses of that name
//!   are reached) plus `*` for anything it redirects to.
//! - [`Egress::connect`]`(host, port, timeout)`: resolve, check, connect; a
//!   [`Connection`] (the `TcpStream`, the address and the entry that allowed it) or an
//!   [`EgressError`] — [`EgressError::Denied`] displays `HOST:PORT denied: it resolves to
//!   ADDRESS, a loopback address (127.0.0.0/8), and the wildcard entry "*" reaches only public
//!   addresses; …`.
//! - [`Egress::resolve`]`(host, port)`: the permitted addresses without connecting;
//!   [`Egress::check`] the same over addresses already resolved.
//! - [`Egress::http_request`]`(method, url, builder)`: a `reqwest` request to that URL on a
//!   client pinned to the checked addresses (no DNS of its own, no proxy, no redirects: follow
//!   a `Location` by calling again).
//! - `own` is the replica's [`OwnAddresses`] (its listen and advertise addresses), shared by
//!   every guard of the process: `PluginEngine::own_addresses` holds it, filled in once the replica is bound.

mod address;
mod connect;
mod own;
mod pattern;
pub mod rules;
mod spelling;

#[cfg(test)]
mod tests;

pub use address::{AddressClass, Classified, canonical, classify};
pub use connect::{Connection, Egress, EgressError, Permitted};
pub use own::{OwnAddresses, is_local, resolve_own};
pub use pattern::{HostPattern, HostPatternError, parse_allowed_hosts};
pub use rules::{Denial, Refusal, Verdict, decide};
pub use spelling::{Target, parse_ip, parse_ipv4_loose};
