//! What kind of address an IP address is: public unicast, or one of the ranges that lead
//! inside (loopback, link-local with the cloud metadata addresses, private, shared,
//! unspecified, multicast, broadcast, reserved). Pure functions over resolved addresses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind of an address, as far as reaching it from a sandbox is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// Global unicast: what wildcard entries reach.
    Public,
    /// 127.0.0.0/8, ::1: this machine (and this replica's own API).
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7 (and deprecated fec0::/10): the local network.
    Private,
    /// 100.64.0.0/10: carrier-grade NAT, often a cloud's internal network.
    Shared,
    /// 169.254.0.0/16, fe80::/10: this link.
    LinkLocal,
    /// 169.254.169.254, fd00:ec2::254: the cloud metadata service, which hands out node
    /// credentials on most clouds.
    CloudMetadata,
    /// 0.0.0.0/8, ::: "this host" on most systems.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Documentation, benchmarking, protocol assignments, future use and the like: nothing a
    /// job has reason to reach.
    Reserved,
}

impl AddressClass {
    /// Words for a log line: "a loopback address".
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private address",
            AddressClass::Shared => "a shared (carrier-grade NAT) address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::CloudMetadata => "the cloud metadata address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "the broadcast address",
            AddressClass::Reserved => "a reserved address",
        }
    }
}

/// An address's class and the range that gave it (`"127.0.0.0/8"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified {
    pub class: AddressClass,
    pub range: &'static str,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.class.describe(), self.range)
    }
}

/// The address a connection to `ip` really reaches: an IPv4-mapped IPv6 address
/// (`::ffff:127.0.0.1`) is the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The class of `ip` (after [`canonical`]).
pub fn classify(ip: IpAddr) -> Classified {
    match canonical(ip) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// IPv4 ranges, most specific first; anything else is public.
const V4_RANGES: &[([u8; 4], u8, AddressClass, &str)] = &[
    ([0, 0, 0, 0], 8, AddressClass::Unspecified, "0.0.0.0/8"),
    ([127, 0, 0, 0], 8, AddressClass::Loopback, "127.0.0.0/8"),
    (
        [169, 254, 169, 254],
        32,
        AddressClass::CloudMetadata,
        "169.254.169.254",
    ),
    (
        [169, 254, 0, 0],
        16,
        AddressClass::LinkLocal,
        "169.254.0.0/16",
    ),
    ([10, 0, 0, 0], 8, AddressClass::Private, "10.0.0.0/8"),
    ([172, 16, 0, 0], 12, AddressClass::Private, "172.16.0.0/12"),
    (
        [192, 168, 0, 0],
        16,
        AddressClass::Private,
        "192.168.0.0/16",
    ),
    ([100, 64, 0, 0], 10, AddressClass::Shared, "100.64.0.0/10"),
    ([192, 0, 0, 0], 24, AddressClass::Reserved, "192.0.0.0/24"),
    ([192, 0, 2, 0], 24, AddressClass::Reserved, "192.0.2.0/24"),
    (
        [198, 51, 100, 0],
        24,
        AddressClass::Reserved,
        "198.51.100.0/24",
    ),
    (
        [203, 0, 113, 0],
        24,
        AddressClass::Reserved,
        "203.0.113.0/24",
    ),
    ([198, 18, 0, 0], 15, AddressClass::Reserved, "198.18.0.0/15"),
    (
        [192, 88, 99, 0],
        24,
        AddressClass::Reserved,
        "192.88.99.0/24",
    ),
    ([224, 0, 0, 0], 4, AddressClass::Multicast, "224.0.0.0/4"),
    (
        [255, 255, 255, 255],
        32,
        AddressClass::Broadcast,
        "255.255.255.255",
    ),
    ([240, 0, 0, 0], 4, AddressClass::Reserved, "240.0.0.0/4"),
];

fn classify_v4(ip: Ipv4Addr) -> Classified {
    let bits = u32::from(ip);
    for &(net, prefix, class, range) in V4_RANGES {
        if in_prefix_v4(bits, u32::from_be_bytes(net), prefix) {
            return Classified { class, range };
        }
    }
    Classified {
        class: AddressClass::Public,
        range: "public IPv4",
    }
}

fn in_prefix_v4(bits: u32, net: u32, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    bits & mask == net & mask
}

fn in_prefix_v6(bits: u128, net: u128, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    };
    bits & mask == net & mask
}

/// IPv6 ranges, most specific first. `::ffff:0:0/96` never gets here ([`canonical`]); NAT64
/// (`64:ff9b::/96`) and 6to4 (`2002::/16`) carry an IPv4 address and are judged by it.
const V6_RANGES: &[(u128, u8, AddressClass, &str)] = &[
    (0, 128, AddressClass::Unspecified, "::"),
    (1, 128, AddressClass::Loopback, "::1"),
    (0, 96, AddressClass::Reserved, "::/96 (IPv4-compatible)"),
    (
        0xfd00_0ec2_0000_0000_0000_0000_0000_0254,
        128,
        AddressClass::CloudMetadata,
        "fd00:ec2::254",
    ),
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        AddressClass::Private,
        "64:ff9b:1::/48 (local-use NAT64)",
    ),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        AddressClass::Reserved,
        "100::/64 (discard)",
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        AddressClass::Reserved,
        "2001:db8::/32 (documentation)",
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        23,
        AddressClass::Reserved,
        "2001::/23 (protocol assignments, Teredo)",
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        AddressClass::Reserved,
        "3fff::/20 (documentation)",
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        AddressClass::Private,
        "fc00::/7",
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        10,
        AddressClass::LinkLocal,
        "fe80::/10",
    ),
    (
        0xfec0_0000_0000_0000_0000_0000_0000_0000,
        10,
        AddressClass::Private,
        "fec0::/10 (site-local)",
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        8,
        AddressClass::Multicast,
        "ff00::/8",
    ),
];

/// NAT64's well-known prefix, `64:ff9b::/96`.
const NAT64: u128 = 0x0064_ff9b_0000_0000_0000_0000_0000_0000;
/// 6to4, `2002::/16`.
const SIX_TO_FOUR: u128 = 0x2002_0000_0000_0000_0000_0000_0000_0000;
/// Global unicast, `2000::/3`.
const GLOBAL_UNICAST: u128 = 0x2000_0000_0000_0000_0000_0000_0000_0000;

fn classify_v6(ip: Ipv6Addr) -> Classified {
    let bits = u128::from(ip);
    if in_prefix_v6(bits, NAT64, 96) {
        return embedded(Ipv4Addr::from(bits as u32), "64:ff9b::/96 (NAT64)");
    }
    if in_prefix_v6(bits, SIX_TO_FOUR, 16) {
        return embedded(Ipv4Addr::from((bits >> 80) as u32), "2002::/16 (6to4)");
    }
    for &(net, prefix, class, range) in V6_RANGES {
        if in_prefix_v6(bits, net, prefix) {
            return Classified { class, range };
        }
    }
    if in_prefix_v6(bits, GLOBAL_UNICAST, 3) {
        Classified {
            class: AddressClass::Public,
            range: "2000::/3",
        }
    } else {
        Classified {
            class: AddressClass::Reserved,
            range: "outside 2000::/3",
        }
    }
}

/// An IPv6 address that carries `v4`: public when `v4` is, else of `v4`'s class.
fn embedded(v4: Ipv4Addr, range: &'static str) -> Classified {
    let inner = classify_v4(v4);
    if inner.class == AddressClass::Public {
        Classified {
            class: AddressClass::Public,
            range,
        }
    } else {
        Classified {
            class: inner.class,
            range: inner.range,
        }
    }
}
