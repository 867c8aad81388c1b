//! Host spellings: the IP address a host string names, however it is spelled — `[::1]`,
//! `::ffff:127.0.0.1`, and the IPv4 forms the C resolver accepts (`2130706433`, `0x7f.1`,
//! `0177.0.0.1`, `127.1`) — and host names in one case, without a trailing dot.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::address::canonical;

/// What a request names as its host: an IP address (in any spelling) or a host name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Ip(IpAddr),
    /// Lower-case, without a trailing dot.
    Name(String),
}

impl Target {
    /// Read a host as it appears in a URL's authority (an IPv6 address in brackets or not).
    pub fn parse(host: &str) -> Target {
        match parse_ip(host) {
            Some(ip) => Target::Ip(ip),
            None => Target::Name(normalise_name(host)),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Target::Ip(ip) => write!(f, "{ip}"),
            Target::Name(name) => f.write_str(name),
        }
    }
}

/// A host name in the form names are compared in.
pub fn normalise_name(name: &str) -> String {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The IP address `host` spells, canonical ([`canonical`]): an IPv6 address (bracketed or
/// not) or an IPv4 address in any form `inet_aton` reads. `None` for a host name.
pub fn parse_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim();
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(v6) = unbracketed.parse::<Ipv6Addr>() {
        return Some(canonical(IpAddr::V6(v6)));
    }
    if unbracketed.len() != host.len() {
        return None;
    }
    parse_ipv4_loose(host).map(IpAddr::V4)
}

/// An IPv4 address in the forms of `inet_aton` (and of URL parsers): one to four parts
/// separated by dots, each decimal, octal (leading `0`) or hexadecimal (`0x`); the last part
/// fills the remaining bytes. One trailing dot is allowed.
pub fn parse_ipv4_loose(text: &str) -> Option<Ipv4Addr> {
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in text.split('.') {
        if count == 4 {
            return None;
        }
        parts[count] = parse_part(part)?;
        count += 1;
    }
    let (head, last) = (&parts[..count - 1], parts[count - 1]);
    if head.iter().any(|&p| p > 255) {
        return None;
    }
    // The last part holds the remaining 5 - count bytes.
    let last_bits = 8 * (5 - count) as u32;
    if last >= 1u64 << last_bits {
        return None;
    }
    let mut value: u32 = 0;
    for (i, &p) in head.iter().enumerate() {
        value |= (p as u32) << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(value | last as u32))
}

/// One part of a loose IPv4 address: `0x1f`, `017`, `31`; `None` for anything else or a
/// value above 2^32 - 1.
fn parse_part(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // `0x` alone is zero, as URL parsers read it; an empty part is not a number.
        return (radix == 16).then_some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Leading zeros aside, more than 32 bits of digits cannot fit.
    let significant = digits.trim_start_matches('0');
    if significant.len() > 32 {
        return None;
    }
    let value = u64::from_str_radix(
        if significant.is_empty() {
            "0"
        } else {
            significant
        },
        radix,
    )
    .ok()?;
    (value <= u64::from(u32::MAX)).then_some(value)
}
