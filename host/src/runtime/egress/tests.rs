//! The address rules as pure functions over resolved addresses (every range, every spelling),
//! and the guard end to end against listeners on loopback only.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn class(text: &str) -> AddressClass {
    classify(ip(text)).class
}

#[test]
fn every_ipv4_range_has_its_class() {
    use AddressClass::*;
    for (address, expected) in [
        ("0.0.0.0", Unspecified),
        ("0.255.255.255", Unspecified),
        ("127.0.0.1", Loopback),
        ("127.0.0.2", Loopback),
        ("127.255.255.254", Loopback),
        ("169.254.169.254", CloudMetadata),
        ("169.254.0.1", LinkLocal),
        ("169.254.170.2", LinkLocal),
        ("169.254.255.255", LinkLocal),
        ("10.0.0.1", Private),
        ("10.255.255.255", Private),
        ("172.16.0.1", Private),
        ("172.31.255.255", Private),
        ("192.168.0.1", Private),
        ("192.168.255.255", Private),
        ("100.64.0.1", Shared),
        ("100.100.100.200", Shared),
        ("100.127.255.255", Shared),
        ("192.0.0.170", Reserved),
        ("192.0.2.1", Reserved),
        ("198.51.100.7", Reserved),
        ("203.0.113.9", Reserved),
        ("198.18.0.1", Reserved),
        ("198.19.255.255", Reserved),
        ("192.88.99.1", Reserved),
        ("224.0.0.1", Multicast),
        ("239.255.255.250", Multicast),
        ("240.0.0.1", Reserved),
        ("255.255.255.254", Reserved),
        ("255.255.255.255", Broadcast),
        // The neighbours of every range are public.
        ("1.1.1.1", Public),
        ("8.8.8.8", Public),
        ("1.0.0.0", Public),
        ("9.255.255.255", Public),
        ("11.0.0.0", Public),
        ("126.255.255.255", Public),
        ("128.0.0.0", Public),
        ("169.253.255.255", Public),
        ("169.255.0.0", Public),
        ("172.15.255.255", Public),
        ("172.32.0.0", Public),
        ("192.167.255.255", Public),
        ("192.169.0.0", Public),
        ("100.63.255.255", Public),
        ("100.128.0.0", Public),
        ("198.17.255.255", Public),
        ("198.20.0.0", Public),
        ("223.255.255.255", Public),
    ] {
        assert_eq!(class(address), expected, "{address}");
    }
}

#[test]
fn every_ipv6_range_has_its_class() {
    use AddressClass::*;
    for (address, expected) in [
        ("::", Unspecified),
        ("::1", Loopback),
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:7f00:2", Loopback),
        ("::ffff:169.254.169.254", CloudMetadata),
        ("::ffff:10.1.2.3", Private),
        ("::ffff:0.0.0.0", Unspecified),
        ("::ffff:8.8.8.8", Public),
        ("::127.0.0.1", Reserved),
        ("fe80::1", LinkLocal),
        ("febf:ffff::1", LinkLocal),
        ("fc00::1", Private),
        ("fd12:3456::1", Private),
        ("fd00:ec2::254", CloudMetadata),
        ("fec0::1", Private),
        ("ff02::1", Multicast),
        ("ff0e::1", Multicast),
        ("2001:db8::1", Reserved),
        ("2001::1", Reserved),
        ("3fff::1", Reserved),
        ("100::1", Reserved),
        ("64:ff9b::7f00:1", Loopback),
        ("64:ff9b::a9fe:a9fe", CloudMetadata),
        ("64:ff9b::808:808", Public),
        ("64:ff9b:1::1", Private),
        ("2002:7f00:1::", Loopback),
        ("2002:a00:1::1", Private),
        ("2002:808:808::1", Public),
        ("2606:4700:4700::1111", Public),
        ("2a00:1450::1", Public),
        ("4000::1", Reserved),
    ] {
        assert_eq!(class(address), expected, "{address}");
    }
}

#[test]
fn odd_ipv4_spellings_are_read_as_the_address_they_spell() {
    for (text, expected) in [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("2852039166", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("169.16689662", "169.254.169.254"),
        ("4294967295", "255.255.255.255"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("::ffff:7f00:1", "127.0.0.1"),
        ("[0:0:0:0:0:ffff:a9fe:a9fe]", "169.254.169.254"),
    ] {
        assert_eq!(parse_ip(text), Some(ip(expected)), "{text}");
    }
    for text in [
        "example.com",
        "localhost",
        "127.0.0.1.1",
        "256.0.0.1",
        "1.2.3.256",
        "1.2.65536",
        "1.16777216",
        "4294967296",
        "08.0.0.1",
        "0x1g",
        "1..2",
        ".1.2.3",
        "",
        "[127.0.0.1]",
        "[::1",
        "cafe.babe",
        "0x7f.example",
    ] {
        assert_eq!(parse_ip(text), None, "{text:?}");
    }
}

#[test]
fn entries_parse_into_their_forms_and_print_normalised() {
    for (entry, shown) in [
        ("*", "*"),
        ("*:443", "*:443"),
        ("*.Example.com", "*.example.com"),
        ("example.com.", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("0x7f.1:8080", "127.0.0.1:8080"),
        ("2130706433", "127.0.0.1"),
        ("[::1]:8080", "[::1]:8080"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]:80", "127.0.0.1:80"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.0/8:5432", "10.0.0.0/8:5432"),
        ("169.254.169.254/32", "169.254.169.254/32"),
        ("fd00::/8", "fd00::/8"),
        ("[fd00::/8]:443", "[fd00::/8]:443"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ] {
        let pattern = HostPattern::parse(entry).unwrap_or_else(|e| panic!("{entry}: {e}"));
        assert_eq!(pattern.to_string(), shown, "{entry}");
        assert_eq!(
            HostPattern::parse(shown).unwrap(),
            pattern,
            "{shown} reads back"
        );
    }
    for (bad, reason) in [
        ("10.0.0.1/8", "no bits set past its prefix"),
        ("10.0.0.0/33", "prefix length"),
        ("fd00::/129", "prefix length"),
        ("[::1", "closing ]"),
        ("[::1]x", "expected :port"),
        ("[::1]:0", "port must be"),
        ("[10.0.0.0/8]", "not a URL"),
        ("[example.com]", "not a valid IPv6 address"),
        ("http://x", "not a URL"),
        ("example.com/path", "not a URL"),
        ("*.", "*.domain"),
        ("a..b", "not a valid host name"),
        ("*.*.example.com", "*.domain"),
        ("exa mple.com", "not a valid host name"),
    ] {
        let err = HostPattern::parse(bad).unwrap_err();
        assert!(err.reason.contains(reason), "{bad}: {}", err.reason);
    }
}

fn patterns(list: &[&str]) -> Vec<HostPattern> {
    list.iter()
        .map(|p| HostPattern::parse(p).unwrap())
        .collect()
}

/// The verdict of `list` on a request to `host` that resolved to `address`.
fn verdict(list: &[&str], host: &str, address: &str, own: bool) -> Verdict {
    decide(
        &patterns(list),
        &Target::parse(host),
        address.parse().unwrap(),
        own,
    )
}

fn allowed(list: &[&str], host: &str, address: &str) -> bool {
    matches!(verdict(list, host, address, false), Verdict::Allowed(_))
}

/// One address of every class but public.
const INSIDE: &[&str] = &[
    "127.0.0.1:80",
    "127.0.0.2:80",
    "[::1]:80",
    "169.254.169.254:80",
    "169.254.1.1:80",
    "[fe80::1]:80",
    "[fd00:ec2::254]:80",
    "10.0.0.1:80",
    "172.16.0.1:80",
    "192.168.1.1:80",
    "100.64.0.1:80",
    "[fd00::1]:80",
    "0.0.0.0:80",
    "[::]:80",
    "224.0.0.1:80",
    "[ff02::1]:80",
    "255.255.255.255:80",
    "192.0.2.1:80",
    "240.0.0.1:80",
    "[::ffff:127.0.0.1]:80",
    "[64:ff9b::7f00:1]:80",
    "[2002:a9fe:a9fe::]:80",
];

#[test]
fn wildcards_reach_public_addresses_only() {
    for address in INSIDE {
        for (list, host) in [
            (&["*"][..], "anything.example"),
            (&["*"][..], "127.0.0.1"),
            (&["*:80"][..], "anything.example"),
            (&["*.example.com"][..], "api.example.com"),
        ] {
            let v = verdict(list, host, address, false);
            assert!(
                matches!(v, Verdict::Refused(_, Refusal::NotPublic { .. })),
                "{list:?} {host} {address}: {v:?}"
            );
        }
    }
    assert!(allowed(&["*"], "example.com", "93.184.215.14:443"));
    assert!(allowed(&["*"], "8.8.8.8", "8.8.8.8:53"));
    assert!(allowed(&["*"], "example.com", "[2606:4700::1111]:443"));
    assert!(allowed(
        &["*.example.com"],
        "api.example.com",
        "93.184.215.14:443"
    ));
    assert!(!allowed(
        &["*.example.com"],
        "example.com",
        "93.184.215.14:443"
    ));
    assert!(!allowed(
        &["*.example.com"],
        "badexample.com",
        "93.184.215.14:443"
    ));
    assert!(!allowed(&["*:443"], "example.com", "93.184.215.14:80"));
}

#[test]
fn host_name_entries_reach_private_and_loopback_but_not_link_local_or_odd_ranges() {
    for address in [
        "127.0.0.1:80",
        "[::1]:80",
        "10.0.0.1:80",
        "172.16.0.1:80",
        "192.168.1.1:80",
        "100.64.0.1:80",
        "[fd00::1]:80",
        "93.184.215.14:80",
    ] {
        assert!(
            allowed(&["db.internal"], "db.internal", address),
            "{address}"
        );
        assert!(
            allowed(&["DB.internal."], "db.INTERNAL.", address),
            "{address}"
        );
    }
    for address in [
        "169.254.169.254:80",
        "169.254.1.1:80",
        "[fe80::1]:80",
        "[fd00:ec2::254]:80",
        "0.0.0.0:80",
        "[::]:80",
        "224.0.0.1:80",
        "255.255.255.255:80",
        "192.0.2.1:80",
    ] {
        let v = verdict(&["db.internal"], "db.internal", address, false);
        assert!(
            matches!(v, Verdict::Refused(_, Refusal::NeedsAddressEntry { .. })),
            "{address}: {v:?}"
        );
    }
    // A name entry names that host only.
    assert_eq!(
        verdict(&["db.internal"], "other.internal", "10.0.0.1:80", false),
        Verdict::NotListed
    );
}

#[test]
fn ip_and_cidr_entries_reach_exactly_what_they_name() {
    for address in INSIDE {
        let ip: SocketAddr = address.parse().unwrap();
        let entry = match canonical(ip.ip()) {
            IpAddr::V4(v4) => format!("{v4}"),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        assert!(
            allowed(&[&entry], "whatever.example", address),
            "{entry} {address}"
        );
        assert!(allowed(&[&entry], &entry, address), "{entry} {address}");
    }
    assert!(allowed(&["127.0.0.1:8080"], "127.0.0.1", "127.0.0.1:8080"));
    assert!(allowed(&["127.0.0.1:8080"], "localhost", "127.0.0.1:8080"));
    assert!(allowed(&["127.0.0.1:8080"], "0x7f.1", "127.0.0.1:8080"));
    assert!(allowed(
        &["127.0.0.1:8080"],
        "[::ffff:127.0.0.1]",
        "[::ffff:127.0.0.1]:8080"
    ));
    assert!(!allowed(&["127.0.0.1:8080"], "127.0.0.1", "127.0.0.1:8081"));
    assert!(!allowed(&["127.0.0.1:8080"], "127.0.0.2", "127.0.0.2:8080"));
    assert!(allowed(&["127.0.0.0/8"], "127.0.0.2", "127.0.0.2:1"));
    assert!(allowed(&["10.0.0.0/8:5432"], "db", "10.9.8.7:5432"));
    assert!(!allowed(&["10.0.0.0/8:5432"], "db", "10.9.8.7:5433"));
    assert!(!allowed(&["10.0.0.0/8"], "db", "11.0.0.1:80"));
    assert!(allowed(
        &["169.254.169.254/32"],
        "169.254.169.254",
        "169.254.169.254:80"
    ));
    assert!(allowed(&["fd00::/8"], "x", "[fd12::1]:80"));
    assert!(!allowed(&["fd00::/8"], "x", "[fc00::1]:80"));
    assert!(!allowed(&["::1"], "x", "127.0.0.1:80"));
    assert!(allowed(&["0.0.0.0/0"], "x", "169.254.169.254:80"));
}

#[test]
fn the_replicas_own_address_needs_an_ip_or_cidr_entry() {
    for (list, host) in [
        (&["*"][..], "public.example"),
        (&["public.example"][..], "public.example"),
        (&["localhost"][..], "localhost"),
    ] {
        for address in ["93.184.215.14:8080", "127.0.0.1:8080"] {
            let v = verdict(list, host, address, true);
            assert!(
                matches!(
                    v,
                    Verdict::Refused(_, Refusal::OwnAddress | Refusal::NotPublic { .. })
                ),
                "{list:?} {address}: {v:?}"
            );
        }
    }
    assert!(matches!(
        verdict(
            &["public.example"],
            "public.example",
            "93.184.215.14:8080",
            true
        ),
        Verdict::Refused(_, Refusal::OwnAddress)
    ));
    assert!(matches!(
        verdict(&["127.0.0.1:8080"], "localhost", "127.0.0.1:8080", true),
        Verdict::Allowed(_)
    ));
    assert!(matches!(
        verdict(
            &["93.184.215.0/24"],
            "public.example",
            "93.184.215.14:8080",
            true
        ),
        Verdict::Allowed(_)
    ));
}

#[test]
fn the_first_entry_that_allows_wins_and_a_refusal_is_kept_for_the_message() {
    match verdict(&["*", "127.0.0.1"], "localhost", "127.0.0.1:80", false) {
        Verdict::Allowed(p) => assert_eq!(p.to_string(), "127.0.0.1"),
        other => panic!("{other:?}"),
    }
    match verdict(&["example.org", "*"], "localhost", "127.0.0.1:80", false) {
        Verdict::Refused(p, Refusal::NotPublic { class }) => {
            assert_eq!(p.to_string(), "*");
            assert_eq!(class.range, "127.0.0.0/8");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        verdict(&[], "localhost", "127.0.0.1:80", false),
        Verdict::NotListed
    );
}

#[test]
fn only_the_permitted_addresses_of_a_name_are_used() {
    // A name that resolves to a public and a loopback address (as a rebinding name may):
    // only the public one is permitted, and a connection can only go there.
    let egress = Egress::new(patterns(&["*"]), Arc::default());
    let addresses: Vec<SocketAddr> = ["127.0.0.1:80", "93.184.215.14:80", "[::1]:80"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let permitted = egress
        .check(&Target::parse("rebind.example"), &addresses)
        .unwrap();
    assert_eq!(
        permitted.iter().map(|p| p.address).collect::<Vec<_>>(),
        vec!["93.184.215.14:80".parse::<SocketAddr>().unwrap()]
    );
    let err = egress
        .check(
            &Target::parse("rebind.example"),
            &[addresses[0], addresses[2]],
        )
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "rebind.example:80 denied: it resolves to 127.0.0.1:80, a loopback address"
        ),
        "{err}"
    );
}

#[test]
fn own_addresses_are_the_listen_and_advertise_addresses() {
    let own = OwnAddresses::default();
    assert!(!own.contains("127.0.0.1:8080".parse().unwrap()));
    own.set(
        "127.0.0.1:8080".parse().unwrap(),
        &["93.184.215.14:8080".parse().unwrap()],
    );
    assert!(own.contains("127.0.0.1:8080".parse().unwrap()));
    assert!(own.contains("[::ffff:127.0.0.1]:8080".parse().unwrap()));
    assert!(own.contains("93.184.215.14:8080".parse().unwrap()));
    assert!(!own.contains("127.0.0.1:8081".parse().unwrap()));
    assert!(!own.contains("127.0.0.2:8080".parse().unwrap()));
    // Listening on every interface: every local address at the port.
    own.set("0.0.0.0:8080".parse().unwrap(), &[]);
    assert!(own.contains("127.0.0.2:8080".parse().unwrap()));
    assert!(own.contains("[::1]:8080".parse().unwrap()));
    assert!(!own.contains("127.0.0.2:8081".parse().unwrap()));
    // 192.0.2.1 is documentation space: no machine has it, so binding to it fails.
    assert!(!own.contains("192.0.2.1:8080".parse().unwrap()));
    assert!(is_local(ip("127.0.0.1")));
    assert!(!is_local(ip("192.0.2.1")));
}

/// A listener on `address` that answers one HTTP request with 204 and counts connections.
async fn listener(address: &str) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let bound = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (bound, count)
}

#[tokio::test]
async fn connect_goes_only_where_an_entry_allows() {
    use std::sync::atomic::Ordering;
    let (bound, count) = listener("127.0.0.1:0").await;
    let port = bound.port();
    let timeout = Duration::from_secs(5);
    let own: Arc<OwnAddresses> = Arc::default();
    for host in [
        "127.0.0.1",
        "localhost",
        "0x7f000001",
        "127.1",
        "[::ffff:127.0.0.1]",
    ] {
        let err = Egress::new(patterns(&["*"]), own.clone())
            .connect(host, port, timeout)
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Denied(_)), "{host}: {err}");
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the listener"
    );

    let entry = format!("127.0.0.1:{port}");
    for host in ["127.0.0.1", "localhost", "0x7f.1"] {
        let connection = Egress::new(patterns(&[&entry]), own.clone())
            .connect(host, port, timeout)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(connection.permitted.address, bound);
    }
    // A host-name entry reaches the loopback addresses of that name...
    let by_name = Egress::new(patterns(&["localhost"]), own.clone());
    assert_eq!(
        by_name
            .connect("localhost", port, timeout)
            .await
            .unwrap()
            .permitted
            .address,
        bound
    );
    // ...unless the address is the replica's own.
    own.set(bound, &[]);
    let err = by_name
        .connect("localhost", port, timeout)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("this replica's own API address"),
        "{err}"
    );
    // The listener counts each connection once it has accepted it, a moment after connect.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while count.load(Ordering::SeqCst) < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn pinned_http_requests_are_checked_first() {
    use std::sync::atomic::Ordering;
    let (bound, count) = listener("127.0.0.1:0").await;
    let port = bound.port();
    let denied = Egress::public_only(Arc::default())
        .http_request(
            reqwest::Method::GET,
            &format!("http://127.0.0.1:{port}/"),
            reqwest::Client::builder(),
        )
        .await
        .unwrap_err();
    assert!(matches!(denied, EgressError::Denied(_)), "{denied}");
    let denied = Egress::public_only(Arc::default())
        .http_request(
            reqwest::Method::GET,
            &format!("http://localhost:{port}/"),
            reqwest::Client::builder(),
        )
        .await
        .unwrap_err();
    assert!(matches!(denied, EgressError::Denied(_)), "{denied}");
    assert_eq!(count.load(Ordering::SeqCst), 0);

    let egress = Egress::configured(&format!("localhost:{port}"), Arc::default()).unwrap();
    let response = egress
        .http_request(
            reqwest::Method::GET,
            &format!("http://localhost:{port}/"),
            reqwest::Client::builder(),
        )
        .await
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
