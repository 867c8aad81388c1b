//! Allowed-host entries and the address checks of the egress guard: any entry parses or is
//! refused with a reason, what parses prints back to the same entry, any host spelling is read
//! as an address or a name, and the decision over any resolved address is consistent with the
//! address's class.
//!
//! Input: 16 bytes of address, 2 of port, 1 of flags, then entries separated by newlines, the
//! last line being the requested host.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use wasmcron::runtime::egress::{
    AddressClass, HostPattern, Target, Verdict, canonical, classify, decide, parse_ip,
};

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = N.min(data.len());
    out[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    out
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let raw: [u8; 16] = take(&mut data);
    let port = u16::from_le_bytes(take(&mut data));
    let flags = take::<1>(&mut data)[0];
    let ip = if flags & 1 == 0 {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(raw))
    };
    let own = flags & 2 != 0;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines: Vec<&str> = text.split('\n').collect();
    let host = lines.pop().unwrap_or_default();

    let class = classify(ip);
    assert_eq!(classify(canonical(ip)), class);

    let mut patterns = Vec::new();
    for line in lines {
        match HostPattern::parse(line) {
            Ok(pattern) => {
                let shown = pattern.to_string();
                let again = HostPattern::parse(&shown)
                    .unwrap_or_else(|e| panic!("{line:?} shows as {shown:?}, which fails: {e}"));
                assert_eq!(again, pattern, "{line:?} -> {shown:?}");
                patterns.push(pattern);
            }
            Err(e) => assert!(!e.reason.is_empty()),
        }
    }

    if let Some(spelled) = parse_ip(host) {
        assert_eq!(canonical(spelled), spelled, "{host:?} is read canonical");
    }
    let target = Target::parse(host);
    let verdict = decide(&patterns, &target, SocketAddr::new(ip, port), own);
    if let Verdict::Allowed(entry) = &verdict {
        // A wildcard lets through only public addresses, and never the replica's own.
        if entry.is_wildcard() {
            assert_eq!(
                class.class,
                AddressClass::Public,
                "{entry} allowed {ip} ({class})"
            );
            assert!(!own, "{entry} allowed the replica's own address {ip}");
        }
    }
});
